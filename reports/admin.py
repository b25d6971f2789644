"""Spreadsheet imports and exports added to the domain apps' admins.

The domain apps sit below `reports` and may not import it, so their admins are extended
here: each registered admin class is subclassed with the spreadsheet mixins and registered
again (reports/ comes after them in INSTALLED_APPS, so they are registered by now). A
change to a domain admin is picked up as is.
"""

from django.contrib import admin

from accountability.models import ForumSession
from metrics.models import Measurement, Metric
from programs.models import Initiative, Person

from .spreadsheets.exports import ChangelistExportMixin
from .spreadsheets.imports import SpreadsheetImportMixin
from .spreadsheets.initiatives import InitiativeResource
from .spreadsheets.measurements import MeasurementResource
from .spreadsheets.metrics import MetricResource
from .spreadsheets.people import PersonResource
from .spreadsheets.sessions import ForumSessionResource

#: Models whose admin imports spreadsheets, with the resource that reads and writes them.
IMPORTS = {
    Measurement: MeasurementResource,
    Metric: MetricResource,
    Person: PersonResource,
    Initiative: InitiativeResource,
    ForumSession: ForumSessionResource,
}
#: Apps whose every admin list exports (the product's; Django's own users and groups aside).
EXPORTING_APPS = {"programs", "metrics", "accountability", "notifications", "dashboard", "reports"}


def _extend(model, mixins: tuple, attrs: dict) -> None:
    current = admin.site._registry[model]
    extended = type(current.__class__.__name__, (*mixins, current.__class__), attrs)
    admin.site.unregister(model)
    admin.site.register(model, extended)


for _model in [m for m in admin.site._registry if m._meta.app_label in EXPORTING_APPS]:
    if _model in IMPORTS:
        _extend(_model, (ChangelistExportMixin, SpreadsheetImportMixin), {"import_resource": IMPORTS[_model]})
    else:
        _extend(_model, (ChangelistExportMixin,), {})
