"""django-import-export resources: tracking events from a carrier's CSV.

Columns: tracking_code, code, occurred_at (ISO 8601), kind (optional: posted, in_transit,
out_for_delivery, delivered, failed_attempt, exception, returned), description, location.
Rows go through ``tracking_event_record`` (the same service as the webhook), so a
re-imported file stores nothing twice and a delivered row closes its shipment.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import fields, resources

from logistics.models import Parcel, TrackingEvent
from logistics.services.tracking import (
    TrackingParseError,
    TrackingUpdate,
    tracking_event_record,
    update_from_dict,
)


class TrackingEventResource(resources.ModelResource):
    tracking_code = fields.Field(
        attribute="parcel__tracking_code", column_name="tracking_code", readonly=True
    )

    class Meta:
        model = TrackingEvent
        fields = ("tracking_code", "code", "occurred_at", "kind", "description", "location")
        export_order = fields
        import_id_fields = ("tracking_code", "code", "occurred_at")
        skip_diff = True

    def get_queryset(self) -> Any:
        return TrackingEvent.objects.select_related("parcel")

    def _update(self, row: Any) -> TrackingUpdate:
        data = {key: row.get(key) for key in self.Meta.fields}
        try:
            return update_from_dict(data)
        except TrackingParseError as exc:
            raise ValidationError({e["field"] or "row": e["message"] for e in exc.errors}) from exc

    def get_instance(self, instance_loader: Any, row: Any) -> TrackingEvent | None:
        try:
            update = self._update(row)
        except ValidationError:
            return None
        return TrackingEvent.objects.filter(
            parcel__tracking_code=update.tracking_code,
            code=update.code,
            occurred_at=update.occurred_at,
        ).first()

    def import_instance(self, instance: TrackingEvent, row: Any, **kwargs: Any) -> None:
        update = self._update(row)
        if not Parcel.objects.filter(tracking_code=update.tracking_code).exists():
            raise ValidationError(
                {"tracking_code": _("unknown parcel %(code)s") % {"code": update.tracking_code}}
            )
        instance.code = update.code
        instance.occurred_at = update.occurred_at

    def skip_row(
        self, instance: Any, original: Any, row: Any, import_validation_errors: Any = None
    ) -> bool:
        # An event already stored (same parcel, code and time) is a replay.
        return bool(instance.pk) and not import_validation_errors

    def save_instance(
        self, instance: TrackingEvent, is_create: bool, row: Any, **kwargs: Any
    ) -> None:
        event, _outcome = tracking_event_record(
            update=self._update(row), source=TrackingEvent.Source.CSV
        )
        if event is not None:
            instance.pk = event.pk
