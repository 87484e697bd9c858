"""Staff two-factor authentication in a real browser: the code step of the login, and
turning it on from the admin. Codes are computed from the secret as an authenticator
app would (django-otp's TOTP)."""

from base64 import b32decode

import pytest
from django.contrib.auth import get_user_model
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_with_an_authenticator_logs_in_with_the_code(page, live_server, admin_credentials):
    # given a superuser with a confirmed authenticator
    username, password = admin_credentials
    user = get_user_model().objects.get(username=username)
    device = TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=True)

    # when they give the password, then the code the app shows
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/2fa/code/**")
    assert page.locator("#dashboard").count() == 0
    page.fill("input[name=code]", f"{totp(device.bin_key):06d}")
    page.click("#two-factor-form button[type=submit]")

    # then the dashboard opens
    page.wait_for_url(f"{live_server.url}/admin/")
    assert page.locator("#dashboard").is_visible()
    assert page.locator("[data-testid=two-factor-off]").count() == 0


def test_staff_turns_on_two_factor_from_the_dashboard(browser_page):
    page = browser_page
    # given a superuser logged in with the password alone: the dashboard says 2FA is off
    page.click("[data-testid=two-factor-off]")
    page.wait_for_url(f"{page.base_url}/admin/2fa/")
    page.click("a[href='/admin/2fa/enable/']")
    page.wait_for_url(f"{page.base_url}/admin/2fa/enable/")

    # when they scan the QR code (here: read the key shown for manual entry) and confirm
    assert page.locator("[data-testid=qr-code] svg").is_visible()
    secret = page.locator("[data-testid=secret]").inner_text().replace(" ", "")
    page.fill("input[name=code]", f"{totp(b32decode(secret)):06d}")
    page.click("#two-factor-enable button[type=submit]")

    # then 2FA is on and the 10 backup codes are shown, once
    codes = page.locator("[data-testid=backup-codes] li")
    codes.first.wait_for()
    assert codes.count() == 10
    shown = sorted(codes.all_inner_texts())
    assert shown == sorted(StaticToken.objects.values_list("token", flat=True))
    device = TOTPDevice.objects.get(user__username="chefe")
    assert device.confirmed
    assert b32decode(secret) == device.bin_key
