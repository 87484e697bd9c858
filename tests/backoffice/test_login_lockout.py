"""Repeated wrong passwords on the admin login lock that username+address (django-axes)."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"


def _login(client, password):
    return client.post(LOGIN, {"username": "ana", "password": password})


@pytest.fixture
def staff():
    return get_user_model().objects.create_user(
        "ana", password="right-horse-battery", is_staff=True, is_superuser=True
    )


def test_the_right_password_is_refused_after_too_many_failures_until_unlocked(client, staff):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "wrong").status_code == 200  # the form again, with its error

    locked = _login(client, "wrong")
    assert locked.status_code == 429
    assert _login(client, "right-horse-battery").status_code == 429
    assert "_auth_user_id" not in client.session

    AccessAttempt.objects.filter(username="ana").delete()  # a manager unlocks
    assert _login(client, "right-horse-battery").status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)


def test_a_success_before_the_limit_clears_the_failures(client, staff):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "wrong")
    assert _login(client, "right-horse-battery").status_code == 302
    assert not AccessAttempt.objects.filter(username="ana").exists()
