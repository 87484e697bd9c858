"""Public pages reached from e-mails: the survey and the marketing unsubscribe.

No login: the signed token in the URL is the credential. Pages render in the
notification's language unless the visitor's browser/session chose another.
"""

from __future__ import annotations

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_http_methods

from backoffice.errors import ApplicationError
from crm.services.notifications import marketing_opt_out, unsubscribe_token_read
from crm.services.surveys import (
    SurveyAlreadyAnswered,
    SurveyTokenInvalid,
    survey_answer,
    survey_lookup,
)


def _invalid(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "crm/survey_invalid.html", {"message": message}, status=400)


@require_http_methods(["GET", "POST"])
def survey_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        info = survey_lookup(token=token)
    except SurveyTokenInvalid as exc:
        return _invalid(request, exc.message)
    notification = info.notification
    language = request.GET.get("lang") or notification.language
    with translation.override(language):
        context = {
            "token": token,
            "store_name": (notification.context or {}).get("store_name") or "",
            "order_number": (notification.context or {}).get("order_number") or "",
            "scores": range(11),
            "language": language,
        }
        if info.response is not None:
            return render(request, "crm/survey_done.html", {**context, "already": True})
        if request.method == "POST":
            raw = request.POST.get("score", "")
            comment = request.POST.get("comment", "")
            try:
                response = survey_answer(
                    token=token, score=int(raw) if raw.isdigit() else -1, comment=comment
                )
            except SurveyAlreadyAnswered:
                return render(request, "crm/survey_done.html", {**context, "already": True})
            except ApplicationError as exc:
                return render(
                    request,
                    "crm/survey.html",
                    {**context, "error": exc.message, "selected": raw, "comment": comment},
                    status=400,
                )
            return render(
                request, "crm/survey_done.html", {**context, "already": False, "response": response}
            )
        selected = request.GET.get("score", "")
        return render(request, "crm/survey.html", {**context, "selected": selected})


@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        email = unsubscribe_token_read(token)
    except (signing.BadSignature, ValueError):
        return render(request, "crm/unsubscribe.html", {"invalid": True}, status=400)
    if request.method == "POST":
        marketing_opt_out(email=email)
        return render(request, "crm/unsubscribe.html", {"done": True, "email": email})
    return render(request, "crm/unsubscribe.html", {"email": email, "token": token})
