# One image for every service of docker-compose.yml: web (gunicorn), workers, beat, migrate.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TLSPOSTURE_DATA_DIR=/var/lib/tlsposture \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .

# Hashed, compressed static files for whitenoise. The key only lets settings load here: it
# is generated for this one step and thrown away (nothing is signed at build time).
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    python manage.py collectstatic --noinput --verbosity 0

RUN useradd --system --uid 10001 --home-dir /app tlsposture \
    && mkdir -p /var/lib/tlsposture \
    && chown tlsposture /var/lib/tlsposture
USER tlsposture

EXPOSE 8000
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "tlsposture.wsgi"]
