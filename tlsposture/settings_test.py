"""Settings for the test suite: the production settings with a fixed, non-secret key."""

import os
import tempfile
from pathlib import Path

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
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file (WAL, busy timeout) like production, not Django's shared-cache in-memory
    # database: there, concurrent writers from threads fail at once with "database table is
    # locked" instead of waiting, so races (e.g. two digest senders) could not be tested.
    # The pid keeps simultaneous runs and xdist workers apart; Django deletes it afterwards.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(Path(tempfile.gettempdir()) / f"tlsposture-test-{os.getpid()}.sqlite3")
    }
