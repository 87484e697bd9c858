"""Admin for inbound webhook deliveries: list, inspect, replay failed ones.

Read-only: a delivery is what the platform sent and stays so. The only action is
"Replay", which calls ``orders.webhooks.delivery_replay`` (after staff fixed the cause:
a channel's credentials, a missing product...).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import FieldTextFilter, RangeDateTimeFilter
from unfold.dataclasses import ActionDialog
from unfold.decorators import action, display

from backoffice.errors import ApplicationError
from orders.models import WebhookDelivery, WebhookRejection
from orders.webhooks import delivery_replay

STATUS_COLORS = {
    WebhookDelivery.Status.PROCESSED: "success",
    WebhookDelivery.Status.IGNORED: "info",
    WebhookDelivery.Status.RECEIVED: "warning",
    WebhookDelivery.Status.FAILED: "danger",
}


def pretty_body(raw: bytes | memoryview | None) -> str:
    """The body as indented JSON when it is JSON, else as text (bytes shown escaped)."""
    data = bytes(raw or b"")
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return repr(data)
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ModelAdmin):
    list_display = [
        "id",
        "channel",
        "topic",
        "delivery_id",
        "status_badge",
        "attempts",
        "order_link",
        "received_at",
        "processed_at",
    ]
    list_display_links = ["id", "delivery_id"]
    # No DISTINCT-over-the-table filters or date_hierarchy: this table grows by every
    # order event a store sends, and the list must stay fast at millions of rows.
    list_filter = [
        "status",
        "channel",
        ("topic", FieldTextFilter),
        ("received_at", RangeDateTimeFilter),
    ]
    list_filter_submit = True
    search_fields = ["=delivery_id"]
    list_select_related = ["channel", "order"]
    show_full_result_count = False
    ordering = ["-id"]
    actions = ["replay"]
    actions_detail = ["replay_detail"]
    fields = [
        "channel",
        "delivery_id",
        "topic",
        "status_badge",
        "attempts",
        "order_link",
        "received_at",
        "processed_at",
        "errors_pretty",
        "headers_pretty",
        "body_pretty",
    ]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookDelivery]:
        # The list never shows bodies: don't read megabytes of them per page.
        qs = super().get_queryset(request)
        match = request.resolver_match
        if match and (match.url_name or "").endswith("changelist"):
            qs = qs.defer("body", "headers")
        return qs

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @display(
        description=_("status"),
        ordering="status",
        label={str(k): v for k, v in STATUS_COLORS.items()},
    )
    def status_badge(self, obj: WebhookDelivery) -> tuple[str, str]:
        return obj.status, obj.get_status_display()

    @display(description=_("order"), ordering="order")
    def order_link(self, obj: WebhookDelivery) -> str:
        if not obj.order_id:
            return "—"
        url = reverse("admin:orders_order_change", args=[obj.order_id])
        return format_html('<a href="{}">#{}</a>', url, obj.order.number if obj.order else "")

    @display(description=_("errors"))
    def errors_pretty(self, obj: WebhookDelivery) -> str:
        if not obj.errors:
            return "—"
        lines = [
            f"{e.get('field') or '—'}: {e.get('message', '')}" if isinstance(e, dict) else str(e)
            for e in obj.errors
        ]
        return format_html('<pre class="whitespace-pre-wrap">{}</pre>', "\n".join(lines))

    @display(description=_("headers"))
    def headers_pretty(self, obj: WebhookDelivery) -> str:
        return format_html(
            "<pre>{}</pre>", json.dumps(obj.headers or {}, indent=2, ensure_ascii=False)
        )

    @display(description=_("raw body"))
    def body_pretty(self, obj: WebhookDelivery) -> str:
        return format_html('<pre class="whitespace-pre-wrap">{}</pre>', pretty_body(obj.body))

    def _replay(self, request: HttpRequest, ids: list[int]) -> None:
        done = ignored = 0
        for delivery_id in ids:
            try:
                order = delivery_replay(delivery_id=delivery_id, actor=request.user)
            except ApplicationError as exc:
                detail = "; ".join(
                    f"{e.get('field') or '—'}: {e.get('message')}" for e in exc.errors[:5]
                )
                self.message_user(
                    request,
                    _("Delivery %(id)s: %(error)s")
                    % {"id": delivery_id, "error": f"{exc.message} {detail}".strip()},
                    messages.ERROR,
                )
                continue
            delivery = WebhookDelivery.objects.get(pk=delivery_id)
            self.log_change(request, delivery, "Replayed")
            if order is None:
                ignored += 1
            else:
                done += 1
        if done:
            self.message_user(
                request,
                _("%(n)d delivery(ies) processed.") % {"n": done},
                messages.SUCCESS,
            )
        if ignored:
            self.message_user(
                request,
                _("%(n)d delivery(ies) needed no action.") % {"n": ignored},
                messages.INFO,
            )

    @action(description=_("Replay (process again)"), permissions=["change"], icon="replay")
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        self._replay(request, list(queryset.order_by("id").values_list("id", flat=True)))

    # A confirmation dialog: the replay itself is a POST (with the CSRF token), so a link
    # followed by accident or planted on another page cannot trigger it.
    @action(
        description=_("Replay (process again)"),
        url_path="replay",
        permissions=["change"],
        icon="replay",
        dialog=ActionDialog(
            title=str(_("Replay this delivery?")),
            description=str(_("It is processed again from the body stored when it arrived.")),
            form_class=None,
            form_submit_text=str(_("Replay")),
        ),
    )
    def replay_detail(self, request: HttpRequest, form: Any, object_id: int | str) -> HttpResponse:
        self._replay(request, [int(object_id)])
        url = reverse("admin:orders_webhookdelivery_change", args=[object_id])
        if request.headers.get("HX-Request"):
            return HttpResponse(headers={"HX-Redirect": url})
        return HttpResponseRedirect(url)


@admin.register(WebhookRejection)
class WebhookRejectionAdmin(ModelAdmin):
    list_display = ["id", "channel_slug", "reason", "remote_addr", "body_sha256", "received_at"]
    list_filter = [
        ("channel_slug", FieldTextFilter),
        ("reason", FieldTextFilter),
        ("received_at", RangeDateTimeFilter),
    ]
    list_filter_submit = True
    search_fields = ["=channel_slug", "=remote_addr", "=body_sha256"]
    show_full_result_count = False
    readonly_fields = list_display

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
