"""`measurements/bulk/`: up to 10,000 measurements in one all-or-nothing write.

Thin: the rules and the set-wise upsert (with history rows) are `metrics.services.
measurements_upsert`, the same code as a single `POST measurements/` and the admin. Here:
- the body is a JSON list of `{metric, period_end, value, source}` (or `{"items": [...]}`),
  not empty, at most 10,000 items;
- metrics are looked up among the caller's organizations (another organization's metric
  is "does not exist", 400), and the caller must hold office or integration in every
  organization the items touch (403);
- errors are keyed by the item's index: `{"items": {"3": {"value": ["..."]}}}`.
"""

from rest_framework import exceptions

from cxgov.api.permissions import OFFICE_INTEGRATION, require_role_in
from metrics.measurements import MeasurementItemsInvalid, UpsertResult, measurements_upsert
from metrics.models import Metric

MAX_ITEMS = 10_000
#: The reason written on each history row of a bulk write.
CHANGE_REASON = "bulk ingest"


def items_of(data) -> list:
    """The list of items of a bulk body, or a 400 saying what is wrong with it."""
    if isinstance(data, dict) and "items" in data:
        data = data["items"]
    if not isinstance(data, list):
        raise exceptions.ValidationError({"items": ['Send a JSON list of measurements (or {"items": [...]}).']})
    if not data:
        raise exceptions.ValidationError({"items": ["The list is empty."]})
    if len(data) > MAX_ITEMS:
        raise exceptions.ValidationError({"items": [f"At most {MAX_ITEMS:,} items per request; got {len(data):,}."]})
    return data


def bulk_upsert(data, *, user, actor) -> UpsertResult:
    """Parse the body, upsert through the service, translate its refusals (400 by index, 403)."""
    items = items_of(data)

    def authorize(organization_ids: set[int]) -> None:
        for organization_id in organization_ids:
            require_role_in(user, organization_id, OFFICE_INTEGRATION)

    try:
        return measurements_upsert(
            items=items,
            actor=actor,
            metrics=Metric.objects.for_user(user),
            authorize=authorize,
            reason=CHANGE_REASON,
        )
    except MeasurementItemsInvalid as refused:
        raise exceptions.ValidationError(
            {"items": {str(index): errors for index, errors in refused.item_errors.items()}}
        ) from None
