"""Test settings: the real settings module, given a test environment first."""

import os

os.environ.setdefault("WISDOM_ENV_FILE", os.devnull)  # never the developer's .env (make run writes one)
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-that-is-long-enough-0123456789")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("WISDOM_EMBEDDED_STORES", "true")  # the SQLite default unless DATABASE_URL; a local cache
os.environ.setdefault("AGENTS_SERVICE_API_KEY", "test-service-key-1,test-service-key-2")
os.environ.setdefault("INTUNO_AGENTS_API_KEY", "test-agents-key")
os.environ.setdefault("INTUNO_AGENTS_BASE_URL", "http://agents.invalid")
os.environ.setdefault("THROTTLE_RATE_LOGIN", "1000/min")
os.environ.setdefault("THROTTLE_RATE_INVITES", "1000/min")
os.environ.setdefault("THROTTLE_RATE_PASSWORD_RESET", "1000/min")
os.environ.setdefault("LOGIN_FAILURE_LIMIT", "1000000")
os.environ.setdefault("LOGIN_FAILURE_LIMIT_PER_ADDRESS", "1000000")
# Message limits out of the way of tests about something else; tests of the limits set their own.
os.environ.setdefault("PERSONAL_FREE_TIER_MESSAGES_PER_MINUTE", "100000")
os.environ.setdefault("PERSONAL_FREE_TIER_MESSAGES_PER_DAY", "100000")
os.environ.setdefault("PERSONAL_PRO_TIER_MESSAGES_PER_MINUTE", "100000")
os.environ.setdefault("PERSONAL_PRO_TIER_MESSAGES_PER_DAY", "100000")
# Likewise open streams per user (empty: no limit); tests of the limit set their own.
os.environ.setdefault("PERSONAL_FREE_TIER_CONCURRENT_STREAMS", "")
os.environ.setdefault("PERSONAL_PRO_TIER_CONCURRENT_STREAMS", "")

from wisdom.settings import *  # noqa: F403
from wisdom.settings import STORAGES

# Hashing at full Argon2 cost in every test costs minutes; the hasher is benchmarked separately.
# Argon2 stays listed so tests can store hashes a live server (real settings) will accept.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", "accounts.hashers.ThreadedArgon2PasswordHasher"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
