"""Forms of the metrics admin: a metric change asks for its reason, like the API does."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from programs.admin import ScopedModelForm
from programs.dates import end_of

from .choices import GUARDED_FIELDS, GUARDED_FIELDS_TEXT
from .models import Metric, MetricRevision
from .services import guarded_changes


def forum_session_model():
    """ForumSession, reached through the revision's foreign key: `metrics` never imports `accountability`."""
    return MetricRevision._meta.get_field("approved_in").related_model


class MetricAdminForm(ScopedModelForm):
    """Metric form whose guarded changes (`GUARDED_FIELDS`: target and target date, incentive
    weight, owner, status, baseline and baseline date, direction, unit, level, kind) need a reason.

    The form only validates; the admin saves a change through `metrics.services.metric_update`,
    which writes one MetricRevision per guarded field that changed.
    """

    change_reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
        help_text=f"Required when {GUARDED_FIELDS_TEXT} changes. Kept in the metric's revisions.",
    )
    approved_in = forms.ModelChoiceField(
        queryset=None,
        required=False,
        help_text="The held forum session of this program where the change was decided, if any. It lowers "
        "the change's weight as a negotiated-away target only when the sponsor was there in person.",
    )

    class Meta:
        model = Metric
        fields = (
            "program",
            "parent",
            "name",
            "description",
            "level",
            "kind",
            "unit",
            "direction",
            "baseline",
            "baseline_on",
            "target",
            "target_on",
            "owner",
            "business_unit",
            "incentive_weight",
            "reporting_cadence",
            "status",
            "replaced_by",
        )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        sessions = forum_session_model().objects.none()
        if self.instance.pk:
            # Only held sessions of this metric's program's forums, on or before today, can have
            # decided a change (SPEC §5); the status value is the session vocabulary's "held".
            sessions = (
                forum_session_model()
                .objects.filter(
                    forum__program_id=self.instance.program_id,
                    status="held",
                    scheduled_for__lt=end_of(timezone.localdate()),
                )
                .select_related("forum")
                .order_by("-scheduled_for")
            )
        self.fields["approved_in"].queryset = sessions

    def guarded_changes(self) -> dict[str, tuple]:
        """{field: (old, new)} of guarded fields this submission changes (valid after clean)."""
        if not self.instance.pk or not hasattr(self, "cleaned_data"):
            return {}
        changes = {f: self.cleaned_data[f] for f in GUARDED_FIELDS if f in self.cleaned_data}
        # Before _post_clean the instance still holds the stored values: compare against them.
        return guarded_changes(self._stored, changes)

    def full_clean(self) -> None:
        if self.instance.pk:
            self._stored = Metric.objects.get(pk=self.instance.pk)
        super().full_clean()

    def clean(self) -> dict:
        cleaned = super().clean()
        changed = self.guarded_changes()
        reason = (cleaned.get("change_reason") or "").strip()
        if changed and not reason:
            raise ValidationError(
                {"change_reason": f"Changing {', '.join(changed)} needs a reason (it is kept in the revisions)."}
            )
        if cleaned.get("approved_in") and not changed:
            self.add_error("approved_in", "Name an approving session only with a change of a guarded field.")
        return cleaned

    def model_changes(self) -> dict:
        """The model fields this submission changes, for `metric_update(changes=...)`."""
        names = set(self._meta.fields)
        return {f: self.cleaned_data[f] for f in self.changed_data if f in names}
