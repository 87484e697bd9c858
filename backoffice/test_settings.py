"""Settings for the test suite: the same as production, with fast and in-memory parts.

Celery runs eagerly here; the integration tests under tests/integration/ start a real
worker against REDIS_URL and switch eager mode off for themselves.
"""

from .settings import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = True
# One enqueue per e-mail, as the outbox tests expect; tests/crm/test_enqueue_window.py
# and the worker tests turn the burst window on for themselves.
NOTIFICATION_ENQUEUE_WINDOW_SECONDS = 0
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
LANGUAGE_CODE = "pt-br"
