"""The API's session authentication, with the admin's two-factor gate."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.authentication import SessionScheme
from rest_framework.authentication import SessionAuthentication


class StaffSessionAuthentication(SessionAuthentication):
    """DRF's session authentication (the browsable API, the admin's own calls), minus
    the staff sessions the admin's gate would send away (``backoffice.two_factor``): not
    verified by a device, of a user who has an authenticator or must set one up
    (``STAFF_2FA_REQUIRED``). To the API such a request is anonymous; token
    authentication is not affected.

    Its own module: DRF imports the authentication classes while it reads its settings,
    which ``backoffice.two_factor`` (through ``backoffice.errors``) needs first."""

    def authenticate(self, request: Any) -> tuple[Any, None] | None:
        found = super().authenticate(request)
        if found is None:
            return None
        from backoffice.two_factor import session_verified, staff_2fa_on

        user = found[0]
        if not user.is_staff or session_verified(request._request):
            return found
        if settings.STAFF_2FA_REQUIRED or staff_2fa_on(user=user):
            return None
        return found


class StaffSessionScheme(SessionScheme):
    """The same session cookie in the OpenAPI schema (drf-spectacular matches the exact
    class, so the subclass needs its own extension; registered by being defined)."""

    target_class = "backoffice.authentication.StaffSessionAuthentication"
