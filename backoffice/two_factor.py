"""Two-factor authentication for staff in the admin (django-otp: TOTP and backup codes).

The admin login takes two steps. The first is the password, as before (django-axes
counts the failures). A user with an authenticator app is then asked, on a second page,
for its 6-digit code or for one of the 10 backup codes, and is logged in only once the
code is right: until then the session holds no more than a pending marker, so the
password alone opens neither the admin nor the session-authenticated API (see also
``backoffice.authentication`` for a session opened before 2FA was set up). A wrong code
counts as a failed login for django-axes, and each device also throttles its own
failures (django-otp doubles the wait after each one).

``StaffTwoFactorMiddleware`` guards the admin's pages and these: a staff session that no
device verified is sent to the code page when the user has an authenticator (a session
from before it was set up, say) and, when ``settings.STAFF_2FA_REQUIRED`` is on, to the
set-up page when the user has none.

2FA is on for a user who has a confirmed TOTP device; the backup codes are a static
device created beside it. ``manage.py staff_2fa_reset <username>`` removes both.
"""

from __future__ import annotations

import logging
import math
import time
from base64 import b32encode
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import django_otp
import segno
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import LoginView
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex
from unfold.widgets import UnfoldAdminTextInputWidget

from backoffice.errors import ApplicationError

logger = logging.getLogger(__name__)

BACKUP_CODE_COUNT = 10
AUTHENTICATOR_NAME = "authenticator app"
BACKUP_CODES_NAME = "backup codes"
# Between the password and the code: how long the password step stays good.
PENDING_SECONDS = 300
PENDING_KEY = "staff_2fa_pending"
ENROL_KEY_SESSION = "staff_2fa_enrol_key"


class CodeRejected(ApplicationError):
    pass


# --- services -------------------------------------------------------------------------


def staff_2fa_on(*, user: Any) -> bool:
    """Whether the user has a confirmed authenticator, i.e. must give a code to log in."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def staff_2fa_verify(*, user: Any, token: str) -> Device:
    """The user's device that accepts ``token``: the authenticator for digits, the backup
    codes otherwise (a backup code is used up). Raises ``CodeRejected`` when the code is
    wrong, already used, or the device is throttled after recent wrong codes."""
    token = "".join(token.split()).lower()
    model = TOTPDevice if token.isdigit() else StaticDevice
    # The row lock lets one request at a time check (and use up) a code of this device.
    with transaction.atomic():
        device = model.objects.select_for_update().filter(user=user, confirmed=True).first()
        allowed, throttle = device.verify_is_allowed() if device else (True, None)
        verified = bool(allowed and device and device.verify_token(token))
    # Outside the block, so a wrong code's throttle count is committed before we raise.
    if verified and device is not None:
        return device
    if not allowed and throttle:
        locked_until = throttle.get("locked_until") or timezone.now()
        seconds = max(1, math.ceil((locked_until - timezone.now()).total_seconds()))
        raise CodeRejected(
            ngettext(
                "Too many wrong codes. Try again in %(seconds)d second.",
                "Too many wrong codes. Try again in %(seconds)d seconds.",
                seconds,
            )
            % {"seconds": seconds}
        )
    raise CodeRejected(
        _("Wrong or already used code. Type the current code from your app, or a backup code.")
    )


def staff_2fa_enrol_key() -> str:
    """A new authenticator secret (hex), kept in the session until the user confirms it."""
    return random_hex(20)


@transaction.atomic
def staff_2fa_enable(*, user: Any, key: str, token: str) -> tuple[TOTPDevice, list[str]]:
    """Turn 2FA on with the secret the user scanned (``key``), confirmed by a code from
    the app; returns the new device and 10 fresh backup codes, which replace any
    earlier devices. Raises ``CodeRejected`` when the code does not match the secret."""
    device = TOTPDevice(user=user, key=key, name=AUTHENTICATOR_NAME, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    token = "".join(token.split())
    if not (token.isdigit() and totp.verify(int(token), tolerance=device.tolerance)):
        raise CodeRejected(
            _(
                "That code does not match. Check that the phone's clock is right and type "
                "the code the app shows now."
            )
        )
    device.drift = totp.drift
    device.last_t = totp.t()  # the code just typed cannot log in again
    _devices_delete(user)
    device.save()
    codes = _backup_codes_issue(user)
    logger.info("staff 2FA turned on for user %s", user.pk)
    return device, codes


@transaction.atomic
def staff_backup_codes_issue(*, user: Any) -> list[str]:
    """Replace the user's backup codes with 10 new ones, and return them."""
    codes = _backup_codes_issue(user)
    logger.info("staff 2FA backup codes renewed for user %s", user.pk)
    return codes


@dataclass(frozen=True)
class Removed:
    authenticators: int
    backup_codes: int


@transaction.atomic
def staff_2fa_remove(*, user: Any) -> Removed:
    """Turn 2FA off: remove the user's authenticator and backup codes (a lost phone, or
    the user's own choice). Returns what was removed."""
    removed = _devices_delete(user)
    logger.info(
        "staff 2FA removed for user %s (%s authenticator(s), %s backup code(s))",
        user.pk,
        removed.authenticators,
        removed.backup_codes,
    )
    return removed


def _devices_delete(user: Any) -> Removed:
    unused = StaticToken.objects.filter(device__user=user).count()
    authenticators, _by_model = TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    return Removed(authenticators=authenticators, backup_codes=unused)


def _backup_codes_issue(user: Any) -> list[str]:
    device = StaticDevice.objects.filter(user=user).first() or StaticDevice.objects.create(
        user=user, name=BACKUP_CODES_NAME
    )
    device.token_set.all().delete()
    device.throttle_reset()
    codes = [_backup_code() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def _backup_code() -> str:
    # Never all digits: staff_2fa_verify tells an app code from a backup code that way.
    while (code := StaticToken.random_token()).isdigit():
        pass
    return code


# --- the admin gate -------------------------------------------------------------------

GUARDED_NAMESPACES = {"admin", "staff_2fa"}
OPEN_VIEWS = {
    ("admin", "logout"),
    ("admin", "jsi18n"),
    ("staff_2fa", "login"),
    ("staff_2fa", "verify"),
}
ENROL_VIEW = ("staff_2fa", "enable")


def session_verified(request: HttpRequest) -> bool:
    """Whether a device verified this session (django_otp's OTPMiddleware sets it)."""
    return getattr(request.user, "otp_device", None) is not None


class StaffTwoFactorMiddleware:
    """Keeps a staff session that no device verified out of the admin: to the code page
    when the user has an authenticator, to the set-up page when the policy requires one.
    Goes after django_otp's OTPMiddleware."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponseBase | None:
        match = request.resolver_match
        if match is None or match.namespace not in GUARDED_NAMESPACES:
            return None
        if (match.namespace, match.url_name) in OPEN_VIEWS:
            return None
        user = request.user
        if not (user.is_authenticated and user.is_staff) or session_verified(request):
            return None
        query = urlencode({"next": request.get_full_path()}, safe="/")
        if staff_2fa_on(user=user):
            return HttpResponseRedirect(f"{reverse('staff_2fa:verify')}?{query}")
        if settings.STAFF_2FA_REQUIRED and (match.namespace, match.url_name) != ENROL_VIEW:
            return HttpResponseRedirect(f"{reverse('staff_2fa:enable')}?{query}")
        return None


# --- views ----------------------------------------------------------------------------


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=32,
        widget=UnfoldAdminTextInputWidget(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )


def _next_url(request: HttpRequest) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("admin:index")


def _page(request: HttpRequest, template: str, title: str, **context: Any) -> TemplateResponse:
    request.current_app = admin.site.name
    context = {
        **admin.site.each_context(request),
        "title": title,
        "next": _next_url(request),
        **context,
    }
    return TemplateResponse(request, template, context)


class StaffLoginView(LoginView):
    """The admin's login page (it replaces admin.site.login at the same URL): the
    password step, then the code page for a user with an authenticator."""

    template_name = "admin/login.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "GET" and admin.site.has_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        request.current_app = admin.site.name
        return super().dispatch(request, *args, **kwargs)

    def get_form_class(self) -> Any:
        return admin.site.login_form or AdminAuthenticationForm

    def get_default_redirect_url(self) -> str:
        return reverse("admin:index")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            admin.site.each_context(self.request),
            title=_("Log in"),
            subtitle=None,
            app_path=self.request.get_full_path(),
            username=self.request.user.get_username(),
        )
        context[self.redirect_field_name] = self.get_success_url()
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if not staff_2fa_on(user=user):
            return super().form_valid(form)
        # Not logged in yet: only a marker that the password was right, for a few minutes.
        self.request.session[PENDING_KEY] = {
            "user": user._meta.pk.value_to_string(user),
            "backend": user.backend,
            "at": time.time(),
        }
        query = urlencode({"next": self.get_success_url()}, safe="/")
        return HttpResponseRedirect(f"{reverse('staff_2fa:verify')}?{query}")


def _user_to_verify(request: HttpRequest) -> tuple[Any, str] | None:
    """Who owes a code: the user who just gave the right password, or a logged-in staff
    user whose session no device verified yet; with the authentication backend used."""
    users = get_user_model()._default_manager.filter(is_active=True, is_staff=True)
    pending = request.session.get(PENDING_KEY)
    if pending and time.time() - pending["at"] < PENDING_SECONDS:
        user = users.filter(pk=pending["user"]).first()
        return (user, pending["backend"]) if user else None
    if request.user.is_authenticated and not session_verified(request):
        user = users.filter(pk=request.user.pk).first()
        if user and staff_2fa_on(user=user):
            return user, request.session[BACKEND_SESSION_KEY]
    return None


@sensitive_post_parameters("code")
@never_cache
def verify_view(request: HttpRequest) -> HttpResponseBase:
    """The second step of the login: the code from the app, or a backup code."""
    found = _user_to_verify(request)
    if found is None:
        if request.user.is_authenticated and session_verified(request):
            return HttpResponseRedirect(_next_url(request))
        query = urlencode({"next": _next_url(request)}, safe="/")
        return HttpResponseRedirect(f"{reverse('admin:login')}?{query}")
    user, backend = found
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        credentials = {"username": user.get_username()}
        if not AxesProxyHandler.is_allowed(request, credentials):
            return get_lockout_response(request, None, credentials)
        if form.is_valid():
            try:
                device = staff_2fa_verify(user=user, token=form.cleaned_data["code"])
            except CodeRejected as exc:
                form.add_error("code", exc.message)
            else:
                request.session.pop(PENDING_KEY, None)
                auth_login(request, user, backend=backend)
                django_otp.login(request, device)
                return HttpResponseRedirect(_next_url(request))
        # A wrong code counts as a failed login, as a wrong password does (django-axes).
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    return _page(
        request,
        "two_factor/verify.html",
        _("Two-factor authentication"),
        form=form,
        pending_user=user,
    )


@sensitive_post_parameters("code")
@never_cache
@staff_member_required
def setup_view(request: HttpRequest) -> HttpResponseBase:
    """The user's 2FA page: on or off; with a current code, new backup codes or off."""
    user = request.user
    enabled = staff_2fa_on(user=user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and enabled and form.is_valid():
        try:
            staff_2fa_verify(user=user, token=form.cleaned_data["code"])
        except CodeRejected as exc:
            form.add_error("code", exc.message)
        else:
            if request.POST.get("action") == "backup_codes":
                codes = staff_backup_codes_issue(user=user)
                return _backup_codes_page(request, codes)
            staff_2fa_remove(user=user)
            messages.success(request, _("Two-factor authentication is off."))
            return HttpResponseRedirect(reverse("staff_2fa:setup"))
    return _page(
        request,
        "two_factor/setup.html",
        _("Two-factor authentication"),
        form=form,
        enabled=enabled,
        backup_codes_left=StaticToken.objects.filter(device__user=user).count(),
        required=settings.STAFF_2FA_REQUIRED,
    )


@sensitive_post_parameters("code")
@never_cache
@staff_member_required
def enable_view(request: HttpRequest) -> HttpResponseBase:
    """Set up an authenticator: a QR code and the key; on only after a right code."""
    user = request.user
    if staff_2fa_on(user=user):
        messages.info(request, _("Two-factor authentication is already on."))
        return HttpResponseRedirect(reverse("staff_2fa:setup"))
    # The same secret until it is confirmed, so reloading the page keeps the scanned one.
    key = request.session.setdefault(ENROL_KEY_SESSION, staff_2fa_enrol_key())
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = staff_2fa_enable(user=user, key=key, token=form.cleaned_data["code"])
        except CodeRejected as exc:
            form.add_error("code", exc.message)
        else:
            del request.session[ENROL_KEY_SESSION]
            django_otp.login(request, device)
            messages.success(request, _("Two-factor authentication is on."))
            return _backup_codes_page(request, codes)
    device = TOTPDevice(user=user, key=key)  # unsaved: for its otpauth:// URI
    secret = b32encode(device.bin_key).decode()
    return _page(
        request,
        "two_factor/enable.html",
        _("Turn on two-factor authentication"),
        form=form,
        qr_svg=mark_safe(segno.make(device.config_url, error="m").svg_inline(scale=5)),  # noqa: S308 - segno's own markup
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        required=settings.STAFF_2FA_REQUIRED,
    )


def _backup_codes_page(request: HttpRequest, codes: list[str]) -> TemplateResponse:
    # Shown once, in the answer to the POST: nothing keeps them to show again.
    return _page(request, "two_factor/backup_codes.html", _("Backup codes"), codes=codes)


app_name = "staff_2fa"
urlpatterns = [
    path("login/", StaffLoginView.as_view(), name="login"),
    path("2fa/", setup_view, name="setup"),
    path("2fa/code/", verify_view, name="verify"),
    path("2fa/enable/", enable_view, name="enable"),
]
