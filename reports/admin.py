"""Spreadsheet imports and exports added to the domain apps' admins.

The domain apps sit below `reports` and may not import it, so their admins are extended
here: each registered admin class is subclassed with the spreadsheet mixins and registered
again (reports/ comes after them in INSTALLED_APPS, so they are registered by now). A
change to a domain admin is picked up as is.
"""

from django.contrib import admin

from metrics.models import Measurement, Metric

from .spreadsheets.imports import SpreadsheetImportMixin
from .spreadsheets.measurements import MeasurementResource
from .spreadsheets.metrics import MetricResource

IMPORTS = {Measurement: MeasurementResource, Metric: MetricResource}


def _extend(model, *mixins, **attrs) -> None:
    current = admin.site._registry[model]
    extended = type(current.__class__.__name__, (*mixins, current.__class__), attrs)
    admin.site.unregister(model)
    admin.site.register(model, extended)


for _model, _resource in IMPORTS.items():
    _extend(_model, SpreadsheetImportMixin, import_resource=_resource)
