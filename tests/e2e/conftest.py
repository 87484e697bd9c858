"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server.

Playwright's own browser download does not work here, so the system Chromium is launched
through ``executable_path``. Django refuses ORM calls from an event loop thread unless
DJANGO_ALLOW_ASYNC_UNSAFE is set; it is set for browser tests only, by this fixture.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import CHROMIUM

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture
def allow_async_unsafe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser(allow_async_unsafe: None) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="pt-BR", timezone_id="America/Sao_Paulo")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def admin_credentials(transactional_db: None) -> tuple[str, str]:
    from django.contrib.auth import get_user_model

    password = "senha-do-teste-" + os.urandom(4).hex()
    get_user_model().objects.create_superuser("chefe", "chefe@example.com", password)
    return "chefe", password


def admin_login(page: Any, live_server_url: str, username: str, password: str) -> None:
    page.goto(f"{live_server_url}/admin/login/?next=/admin/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{live_server_url}/admin/")


@pytest.fixture
def browser_page(page: Any, live_server: Any, admin_credentials: tuple[str, str]) -> Any:
    """A page already logged into the admin as a superuser; ``page.base_url`` is the server."""
    admin_login(page, live_server.url, *admin_credentials)
    page.base_url = live_server.url
    return page
