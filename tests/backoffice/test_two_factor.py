"""Staff two-factor authentication in the admin (backoffice/two_factor.py, django-otp).

Codes are computed from the device's secret with django-otp's own TOTP, as an
authenticator app would; nothing of django-otp is mocked.
"""

import time
from base64 import b32decode
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
import yaml
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from unfold.admin import ModelAdmin as UnfoldModelAdmin

from backoffice.two_factor import ENROL_KEY_SESSION, PENDING_KEY, staff_backup_codes_issue

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
VERIFY = "/admin/2fa/code/?next=/admin/"
SETUP = "/admin/2fa/"
ENABLE = "/admin/2fa/enable/"
PASSWORD = "right-horse-battery"


def code(key: bytes, *, steps_ahead: int = 0, drift: int = 0) -> str:
    """The code an authenticator app shows for ``key`` now (or a step or more later)."""
    totp = TOTP(key, drift=drift)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def device_code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    device.refresh_from_db()
    return code(device.bin_key, steps_ahead=steps_ahead, drift=device.drift)


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # the messages below, in English
    return client


@pytest.fixture
def staff():
    return get_user_model().objects.create_user(
        "ana", password=PASSWORD, is_staff=True, is_superuser=True
    )


@pytest.fixture
def device(staff) -> TOTPDevice:
    return TOTPDevice.objects.create(user=staff, name="authenticator app", confirmed=True)


@pytest.fixture
def backup_codes(staff, device) -> list[str]:
    return staff_backup_codes_issue(user=staff)


def _password(client, password=PASSWORD):
    return client.post(LOGIN, {"username": "ana", "password": password})


def _code(client, value):
    return client.post(VERIFY, {"code": value})


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- logging in -----------------------------------------------------------------------


def test_without_a_device_the_password_alone_opens_the_admin(client, staff):
    response = _password(client)

    assert response.status_code == 302
    assert response.url == "/admin/"
    assert client.session["_auth_user_id"] == str(staff.pk)
    assert client.get("/admin/").status_code == 200


def test_with_a_device_the_password_only_leads_to_the_code_page(client, staff, device):
    response = _password(client)

    assert response.status_code == 302
    assert response.url == VERIFY
    assert not _logged_in(client)  # not even a password-only session
    assert client.get("/admin/").url.startswith("/admin/login/")
    page = client.get(VERIFY)
    assert page.status_code == 200
    assert 'name="code"' in page.content.decode()


def test_the_right_code_logs_in_and_opens_the_admin(client, staff, device):
    _password(client)

    response = _code(client, code(device.bin_key))

    assert response.status_code == 302
    assert response.url == "/admin/"
    assert client.session["_auth_user_id"] == str(staff.pk)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert PENDING_KEY not in client.session
    assert 'id="dashboard"' in client.get("/admin/").content.decode()


def test_a_wrong_code_is_refused_with_a_message_and_counts_as_a_failed_login(client, staff, device):
    _password(client)
    right = code(device.bin_key)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    response = _code(client, wrong)

    assert response.status_code == 200
    assert "Wrong or already used code" in response.content.decode()
    assert not _logged_in(client)
    assert AccessAttempt.objects.get(username="ana").failures_since_start == 1


def test_a_backup_code_logs_in_once(client, staff, device, backup_codes):
    _password(client)
    assert _code(client, backup_codes[0].upper()).url == "/admin/"  # typed in capitals
    assert client.session[DEVICE_ID_SESSION_KEY] == StaticDevice.objects.get().persistent_id
    assert StaticToken.objects.count() == 9
    client.post("/admin/logout/")

    _password(client)
    again = _code(client, backup_codes[0])

    assert again.status_code == 200
    assert "Wrong or already used code" in again.content.decode()
    assert not _logged_in(client)


# A wait of 30 s after one wrong code (django-otp's default factor is 1 s, doubling), so the
# right code below surely comes inside it however slow the machine.
@override_settings(OTP_TOTP_THROTTLE_FACTOR=30)
def test_wrong_codes_throttle_the_device_even_for_the_right_code(client, staff, device):
    _password(client)
    right = code(device.bin_key)
    _code(client, f"{(int(right) + 1) % 1_000_000:06d}")

    response = _code(client, right)

    assert "Too many wrong codes. Try again in 30 seconds." in response.content.decode()
    assert not _logged_in(client)
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    # once the wait is over the same code works
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - timedelta(minutes=1)
    )
    assert _code(client, right).url == "/admin/"


def test_too_many_wrong_codes_lock_the_login_like_wrong_passwords(client, staff, device):
    _password(client)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _code(client, "000000").status_code == 200

    assert _code(client, "000000").status_code == 429
    assert _code(client, code(device.bin_key)).status_code == 429
    assert _password(client).status_code == 429  # the right password too, until unlocked
    assert not _logged_in(client)


def test_the_password_step_expires(client, staff, device):
    _password(client)
    session = client.session
    session[PENDING_KEY] = {**session[PENDING_KEY], "at": time.time() - 3600}
    session.save()

    response = _code(client, code(device.bin_key))

    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")
    assert not _logged_in(client)


def test_a_password_only_session_of_a_user_with_a_device_must_give_the_code(client, staff, device):
    client.force_login(staff)  # e.g. a session from before the device was set up

    for url in ("/admin/", "/admin/otp_totp/totpdevice/", SETUP):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/admin/2fa/code/?next=")

    assert client.post(VERIFY, {"code": code(device.bin_key)}).url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_api_refuses_a_session_that_owes_the_code_and_takes_it_once_verified(
    client, staff, device
):
    client.force_login(staff)  # a session from before the device was set up

    assert client.get("/api/orders/").status_code in (401, 403)

    client.post(VERIFY, {"code": code(device.bin_key)})
    assert client.get("/api/orders/").status_code == 200


def test_the_api_takes_a_password_session_of_staff_without_2fa(client, staff):
    client.force_login(staff)

    assert client.get("/api/orders/").status_code == 200


@override_settings(STAFF_2FA_REQUIRED=True)
def test_when_required_the_api_refuses_a_session_without_a_device(client, staff):
    _password(client)

    assert client.get("/api/orders/").status_code in (401, 403)


# --- policy ---------------------------------------------------------------------------


@override_settings(STAFF_2FA_REQUIRED=True)
def test_when_required_staff_without_a_device_must_enrol_before_anything_else(client, staff):
    assert _password(client).url == "/admin/"

    for url in ("/admin/", "/admin/crm/customer/", SETUP):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(f"{ENABLE}?next=")
    page = client.get(f"{ENABLE}?next=/admin/crm/customer/")
    assert "This shop requires two-factor authentication" in page.content.decode()

    key = bytes.fromhex(client.session[ENROL_KEY_SESSION])
    done = client.post(ENABLE, {"code": code(key), "next": "/admin/crm/customer/"})

    assert done.status_code == 200
    assert len(done.context["codes"]) == 10
    assert 'href="/admin/crm/customer/"' in done.content.decode()
    assert client.get("/admin/crm/customer/").status_code == 200


@override_settings(STAFF_2FA_REQUIRED=False)
def test_when_not_required_staff_without_a_device_use_the_admin(client, staff):
    client.force_login(staff)

    response = client.get("/admin/")

    assert response.status_code == 200
    assert 'data-testid="two-factor-off"' in response.content.decode()  # the nudge


def test_the_docker_compose_web_service_requires_two_factor():
    spec = yaml.safe_load((Path(settings.BASE_DIR) / "docker-compose.yml").read_text())

    environment = spec["services"]["web"]["environment"]

    assert environment["STAFF_2FA_REQUIRED"] in ("true", "${STAFF_2FA_REQUIRED:-true}")
    assert environment["DATABASE_URL"]  # still the shared settings too


# --- turning it on and off ------------------------------------------------------------


def test_enrolment_shows_a_qr_code_and_the_key_and_needs_a_right_code(client, staff):
    client.force_login(staff)

    page = client.get(ENABLE)
    key_hex = client.session[ENROL_KEY_SESSION]
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html
    secret = page.context["secret"]
    assert bytes.fromhex(key_hex) == b32decode(secret.replace(" ", ""))
    assert secret in html
    assert client.get(ENABLE).context["secret"] == secret  # a reload keeps the key

    wrong = client.post(ENABLE, {"code": "123456"})
    assert "That code does not match" in wrong.content.decode()
    assert not TOTPDevice.objects.exists()

    done = client.post(ENABLE, {"code": code(bytes.fromhex(key_hex))})

    device = TOTPDevice.objects.get(user=staff)
    assert device.confirmed and device.key == key_hex
    codes = done.context["codes"]
    assert len(codes) == 10 and all(c in done.content.decode() for c in codes)
    assert sorted(StaticToken.objects.values_list("token", flat=True)) == sorted(codes)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert ENROL_KEY_SESSION not in client.session
    assert client.get("/admin/").status_code == 200
    # the code just used to confirm cannot log in again
    client.post("/admin/logout/")
    _password(client)
    assert "Wrong or already used code" in _code(client, code(device.bin_key)).content.decode()


def _verified_login(client, device) -> None:
    _password(client)
    assert _code(client, device_code(device)).url == "/admin/"


def test_turning_it_off_needs_a_current_code(client, staff, device, backup_codes):
    _verified_login(client, device)

    refused = client.post(SETUP, {"code": "000000", "action": "disable"})
    assert "Wrong or already used code" in refused.content.decode()
    assert TOTPDevice.objects.exists()

    device.throttle_reset()  # the wrong code above throttles the device for a second
    response = client.post(SETUP, {"code": device_code(device, steps_ahead=1), "action": "disable"})

    assert response.status_code == 302
    assert not TOTPDevice.objects.exists() and not StaticDevice.objects.exists()
    assert client.get("/admin/").status_code == 200  # the policy is off
    client.post("/admin/logout/")
    assert _password(client).url == "/admin/"  # the password alone again


def test_new_backup_codes_replace_the_old_ones(client, staff, device, backup_codes):
    _verified_login(client, device)

    response = client.post(
        SETUP, {"code": device_code(device, steps_ahead=1), "action": "backup_codes"}
    )

    new = response.context["codes"]
    assert len(new) == 10 and not set(new) & set(backup_codes)
    assert sorted(StaticToken.objects.values_list("token", flat=True)) == sorted(new)
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_the_setup_page_tells_on_from_off(client, staff, device, backup_codes):
    _verified_login(client, device)
    assert "You have 10 unused backup codes left" in client.get(SETUP).content.decode()

    other = get_user_model().objects.create_user("bia", password=PASSWORD, is_staff=True)
    client.force_login(other)
    assert "Two-factor authentication is off" in client.get(SETUP).content.decode()
    assert client.get(ENABLE).status_code == 200


def test_the_user_menu_links_the_two_factor_page(client, staff):
    client.force_login(staff)

    html = client.get("/admin/auth/user/").content.decode()  # a page without the dashboard's notice

    assert f'href="{SETUP}"' in html


# --- recovery -------------------------------------------------------------------------


def test_staff_2fa_reset_removes_the_devices_and_says_what_it_did(staff, device, backup_codes):
    out = StringIO()

    call_command("staff_2fa_reset", "ana", stdout=out)

    assert "ana: removed 1 authenticator app(s) and 10 unused backup code(s)." in out.getvalue()
    assert not TOTPDevice.objects.exists() and not StaticDevice.objects.exists()

    again = StringIO()
    call_command("staff_2fa_reset", "ana", stdout=again)
    assert "nothing removed" in again.getvalue()
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("staff_2fa_reset", "nobody")


def test_after_a_reset_the_user_logs_in_with_the_password(client, staff, device):
    call_command("staff_2fa_reset", "ana", stdout=StringIO())

    assert _password(client).url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_superuser_deletes_a_device_in_the_themed_admin(client, staff, device):
    assert isinstance(admin.site._registry[TOTPDevice], UnfoldModelAdmin)
    assert isinstance(admin.site._registry[StaticDevice], UnfoldModelAdmin)
    bia = get_user_model().objects.create_user("bia", password=PASSWORD, is_staff=True)
    lost = TOTPDevice.objects.create(user=bia, name="authenticator app", confirmed=True)
    _verified_login(client, device)

    assert client.get("/admin/otp_totp/totpdevice/").status_code == 200
    change = client.get(f"/admin/otp_totp/totpdevice/{lost.pk}/change/")
    assert change.status_code == 200
    assert lost.key not in change.content.decode()  # the secret stays hidden

    response = client.post(f"/admin/otp_totp/totpdevice/{lost.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk=lost.pk).exists()
