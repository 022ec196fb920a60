"""gunicorn settings for the web process (`gunicorn -c deploy/gunicorn.conf.py
tlsposture.wsgi`). Static files are served by whitenoise from what collectstatic gathered;
TLS ends at a proxy in front, which sets X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER=1)."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
# Exports of large fleets stream; anything slower than this is stuck, not busy.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
# Only the proxy may say which scheme and client address a request came with.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
# Heartbeat files in memory: container filesystems can stall the workers' check-ins.
# (gunicorn creates them with mkstemp, so the shared directory is safe.)
SHARED_MEMORY = "/dev/shm"  # noqa: S108
worker_tmp_dir = SHARED_MEMORY if os.path.isdir(SHARED_MEMORY) else None
