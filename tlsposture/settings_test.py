"""Settings for the test suite: the production settings with a fixed, non-secret key."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-key-not-used-anywhere-else-0123456789abcdefghij")

from tlsposture.settings import *  # noqa: F403

SECURE_SSL_REDIRECT = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# A fixed Fernet key for stored checker passwords in tests (encrypts nothing real).
TLSPOSTURE["SECRET_KEYS"] = ["dGVzdHMtb25seS1rZXktMDEyMzQ1Njc4OWFiY2RlZjA="]  # noqa: F405
# Serve static files from the source tree: tests never run collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
