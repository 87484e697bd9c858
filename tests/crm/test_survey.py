"""The public survey page: signed single-use links, detractors and promoters."""

from __future__ import annotations

import time

import pytest
from django.core import signing

from crm.models import Notification, SurveyResponse, Ticket
from crm.services import notification_queue
from crm.services.notifications import SURVEY_SALT, survey_token_make
from tests.factories.crm import order_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(customer):
    return notification_queue(
        kind="survey",
        to_email=customer.email,
        language="pt-br",
        dedupe_key="order:9:survey",
        context=order_context(order_id=9, order_number="2002"),
        customer_id=customer.pk,
        order_id=9,
    )


def _url(notification):
    return f"/survey/{survey_token_make(notification_id=notification.pk)}/"


def test_the_page_opens_without_login_and_preselects_the_score(client, survey):
    response = client.get(_url(survey) + "?score=8")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="viewport"' in body
    assert 'value="8" required checked' in body
    assert "2002" in body


def test_a_detractor_opens_a_ticket(client, survey, customer, mailoutbox):
    response = client.post(_url(survey), {"score": "3", "comment": "Chegou quebrado"})

    assert response.status_code == 200
    answer = SurveyResponse.objects.get()
    assert (answer.score, answer.comment, answer.order_id) == (3, "Chegou quebrado", 9)
    ticket = Ticket.objects.get()
    assert ticket.customer == customer
    assert ticket.order_id == 9
    assert ticket.priority == Ticket.Priority.HIGH
    assert ticket.source == Ticket.Source.SURVEY
    assert ticket.body == "Chegou quebrado"
    assert not Notification.objects.filter(kind="review_request").exists()


def test_a_promoter_gets_a_review_request(
    client, survey, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url(survey), {"score": "10"})

    review = Notification.objects.get(kind="review_request")
    assert review.dedupe_key == "order:9:review_request"
    assert review.status == Notification.Status.SENT
    assert [m.to for m in mailoutbox] == [["maria@example.com"]]
    assert not Ticket.objects.exists()


def test_a_passive_answer_does_neither(client, survey):
    client.post(_url(survey), {"score": "7"})
    assert SurveyResponse.objects.get().score == 7
    assert not Ticket.objects.exists()
    assert not Notification.objects.filter(kind="review_request").exists()


def test_the_link_is_single_use(client, survey):
    client.post(_url(survey), {"score": "2"})

    again = client.post(_url(survey), {"score": "10"})
    page = client.get(_url(survey))

    assert again.status_code == 200
    assert "already answered" in again.content.decode() or "respondida" in again.content.decode()
    assert "<form" not in page.content.decode()
    assert SurveyResponse.objects.get().score == 2
    assert Ticket.objects.count() == 1
    assert not Notification.objects.filter(kind="review_request").exists()


def test_a_forged_token_gets_a_400_page(client, survey):
    token = survey_token_make(notification_id=survey.pk)
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    other_id = signing.TimestampSigner(salt="something-else").sign(str(survey.pk))
    for bad in (forged, other_id, "nonsense"):
        response = client.post(f"/survey/{bad}/", {"score": "0"})
        assert response.status_code == 400
    assert not SurveyResponse.objects.exists()
    assert not Ticket.objects.exists()


def test_an_expired_token_gets_a_400_page(client, survey, settings):
    settings.SURVEY_TOKEN_MAX_AGE_DAYS = 30

    class Old(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - 31 * 86400)

    token = Old(salt=SURVEY_SALT).sign(str(survey.pk))
    response = client.post(f"/survey/{token}/", {"score": "9"})

    assert response.status_code == 400
    assert not SurveyResponse.objects.exists()


def test_a_token_for_a_non_survey_notification_is_refused(client, customer):
    other = notification_queue(
        kind="shipped",
        to_email=customer.email,
        language="pt-br",
        dedupe_key="x",
        context={},
        customer_id=customer.pk,
    )
    response = client.get(_url(other))
    assert response.status_code == 400


def test_an_out_of_range_score_is_refused(client, survey):
    response = client.post(_url(survey), {"score": "11"})
    assert response.status_code == 400
    assert not SurveyResponse.objects.exists()


def test_the_page_speaks_the_customers_language(client, customer):
    survey = notification_queue(
        kind="survey",
        to_email=customer.email,
        language="es",
        dedupe_key="s-es",
        context=order_context(),
        customer_id=customer.pk,
    )
    body = client.get(_url(survey)).content.decode()
    assert 'lang="es"' in body
