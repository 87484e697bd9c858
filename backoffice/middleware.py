"""Webhook requests take a short middleware chain (DESIGN.md, "The hot path").

The store's order webhooks and the carriers' tracking webhooks are signed
machine-to-machine POSTs: no browser session, user, CSRF token, flash message, admin
login or frame. Every one of them nonetheless paid for the admin's stack (sessions,
CSRF, authentication, OTP, staff 2FA, messages, clickjacking, simple-history's request
hook, django-axes, WhiteNoise): 4-6 % of the instructions an ingested order costs in
gunicorn (docs/benchmarks.md, Ingest, "fifth session").

``WebhookChainMiddleware`` goes first in ``MIDDLEWARE``. A request whose path starts
with one of ``WEBHOOK_PATH_PREFIXES`` leaves the full chain there and runs through
``WEBHOOK_MIDDLEWARE`` (security headers, language, common) to URL resolution and the
view; every other request goes on through the full chain untouched. One code path for
gunicorn, runserver and Django's test client, so the tests exercise what production runs.

Deviation from plain Django: Django has one middleware list per project. The short
chain is built the way ``BaseHandler.load_middleware`` builds the full one, around
``BaseHandler._get_response`` (URL resolution, the view, its response checks), with no
view, template-response or exception middleware: a middleware in
``WEBHOOK_MIDDLEWARE`` that has such hooks is refused at start-up rather than silently
half-run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponseBase
from django.utils.module_loading import import_string

Handler = Callable[[HttpRequest], HttpResponseBase]

# A short chain has nowhere to run these: BaseHandler._get_response calls the view
# middleware it was given (none here) and load_middleware is what would collect them.
UNSUPPORTED_HOOKS = ("process_view", "process_exception", "process_template_response")


class _ViewOnlyHandler(BaseHandler):
    """Django's handler with no middleware loaded: its ``_get_response`` resolves the
    URL, calls the view and checks the response (the hooks lists stay empty)."""

    def __init__(self) -> None:
        super().__init__()
        self._view_middleware: list[Handler] = []
        self._template_response_middleware: list[Handler] = []
        self._exception_middleware: list[Handler] = []

    def view_response(self, request: HttpRequest) -> HttpResponseBase:
        return self._get_response(request)  # type: ignore[attr-defined, no-any-return]


def webhook_chain_build(middleware: list[str]) -> Handler:
    """URL resolution and the view, wrapped in ``middleware`` (outermost first), each
    layer turning exceptions into responses as Django's own chain does."""
    chain = cast(Handler, convert_exception_to_response(_ViewOnlyHandler().view_response))
    for path in reversed(middleware):
        factory = import_string(path)
        hooks = [hook for hook in UNSUPPORTED_HOOKS if hasattr(factory, hook)]
        if hooks:
            raise ImproperlyConfigured(
                f"WEBHOOK_MIDDLEWARE: {path} has {', '.join(hooks)}, which the webhook "
                "chain does not run; leave it to the full MIDDLEWARE."
            )
        chain = cast(Handler, convert_exception_to_response(factory(chain)))
    return chain


class WebhookChainMiddleware:
    """First in ``MIDDLEWARE``: webhook paths take ``WEBHOOK_MIDDLEWARE`` only."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.prefixes = tuple(settings.WEBHOOK_PATH_PREFIXES)
        self.webhook_chain = webhook_chain_build(list(settings.WEBHOOK_MIDDLEWARE))

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path_info.startswith(self.prefixes):
            return self.webhook_chain(request)
        return self.get_response(request)
