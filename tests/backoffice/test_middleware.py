"""Webhook paths take the short middleware chain (backoffice/middleware.py); every other
path keeps the full one."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, JsonResponse
from django.test import Client
from django.urls import path, reverse
from django.utils.translation import get_language

from backoffice.middleware import webhook_chain_build


def probe_view(request: HttpRequest) -> JsonResponse:
    """What the middleware in front of the view left on the request."""
    return JsonResponse(
        {
            "session": hasattr(request, "session"),
            "user": hasattr(request, "user"),
            "language": get_language(),
        }
    )


def failing_view(request: HttpRequest) -> JsonResponse:
    raise RuntimeError("boom")


urlpatterns = [
    path("api/webhooks/probe/", probe_view),
    path("api/webhooks/fail/", failing_view),
    path("elsewhere/probe/", probe_view),
]


@pytest.fixture
def probe_urls(settings):
    settings.ROOT_URLCONF = __name__


def test_a_webhook_path_skips_sessions_users_and_frame_headers(probe_urls):
    # when
    response = Client().post("/api/webhooks/probe/", data=b"{}", content_type="application/json")
    # then: no session or user was attached, no admin frame header; security headers stay
    assert response.json()["session"] is False
    assert response.json()["user"] is False
    assert "X-Frame-Options" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_any_other_path_keeps_the_full_chain(probe_urls):
    response = Client().get("/elsewhere/probe/")

    assert response.json()["session"] is True
    assert response.json()["user"] is True
    assert response.headers["X-Frame-Options"] == "DENY"


def test_a_webhook_answers_in_the_language_it_asks_for(probe_urls):
    asked = Client().post(
        "/api/webhooks/probe/",
        data=b"{}",
        content_type="application/json",
        headers={"Accept-Language": "es"},
    )
    default = Client().post("/api/webhooks/probe/", data=b"{}", content_type="application/json")

    assert asked.json()["language"] == "es"
    assert default.json()["language"] == settings.LANGUAGE_CODE
    assert asked.headers["Content-Language"] == "es"


def test_an_exception_in_a_webhook_view_becomes_a_500_response(probe_urls):
    client = Client(raise_request_exception=False)

    response = client.post("/api/webhooks/fail/", data=b"{}", content_type="application/json")

    assert response.status_code == 500


def test_middleware_with_view_hooks_is_refused_for_the_webhook_chain():
    with pytest.raises(ImproperlyConfigured, match="CsrfViewMiddleware has process_view"):
        webhook_chain_build(
            [
                "django.middleware.common.CommonMiddleware",
                "django.middleware.csrf.CsrfViewMiddleware",
            ]
        )


def test_the_real_webhook_urls_fall_under_the_prefixes():
    urls = [
        reverse("webhook-receive", kwargs={"channel_slug": "loja"}),
        reverse("logistics:tracking-webhook", kwargs={"carrier_slug": "correios"}),
    ]

    for url in urls:
        assert url.startswith(tuple(settings.WEBHOOK_PATH_PREFIXES)), url
