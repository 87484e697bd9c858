"""GET /health/: is the database, Redis and a Celery worker there?

Answers 200 when every configured part is up and 503 naming the part that is not.
In the embedded mode Redis is "not configured" and Celery runs "in-process".
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _check_database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"status": "ok", "vendor": connection.vendor}
    except Exception as exc:
        return {"status": "error", "error": str(exc)}


def _check_redis() -> dict[str, Any]:
    if not settings.REDIS_URL:
        return {"status": "not_configured"}
    try:
        import redis

        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
        )
        client.ping()
        return {"status": "ok"}
    except Exception as exc:
        return {"status": "error", "error": str(exc)}


def _check_celery() -> dict[str, Any]:
    from backoffice.celery import app

    if app.conf.task_always_eager:
        return {"status": "ok", "mode": "in-process"}
    try:
        replies = app.control.ping(timeout=1.0)
    except Exception as exc:
        return {"status": "error", "error": str(exc)}
    if not replies:
        return {"status": "error", "error": "no Celery worker answered within 1s"}
    return {"status": "ok", "workers": sorted(name for reply in replies for name in reply)}


@never_cache
@require_GET
def health_view(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": _check_database(),
        "redis": _check_redis(),
        "celery": _check_celery(),
    }
    healthy = all(c["status"] in ("ok", "not_configured") for c in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503
    )
