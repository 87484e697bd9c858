import pytest

from tests.e2e.conftest import admin_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_logs_in_and_sees_the_dashboard(page, live_server, admin_credentials):
    # given a superuser and the admin on a live server
    username, password = admin_credentials

    # when they log in through the real login form
    admin_login(page, live_server.url, username, password)

    # then the dashboard shows, in Portuguese (the default language)
    assert page.locator("#dashboard").is_visible()
    assert page.locator("html").get_attribute("lang") == "pt-br"
    assert "Usuários" in page.content()


def test_wrong_password_stays_on_the_login_page_with_a_message(
    page, live_server, admin_credentials
):
    username, _ = admin_credentials

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit], input[type=submit]")

    assert "/admin/login/" in page.url
    assert page.locator(".errornote, .text-red-600, [class*=error]").count() > 0
