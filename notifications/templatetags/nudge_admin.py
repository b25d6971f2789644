"""`{% nudges_outstanding as nudges %}`: the admin landing page's count of reminders told and
not yet due (their subject may still be done in time), for the signed-in user's organizations.
It lives here, not with the other landing counts in `accountability`, because the nudges
told are notifications' records."""

from django import template
from django.urls import reverse
from django.utils import timezone

from ..models import Nudge

register = template.Library()


@register.simple_tag(takes_context=True)
def nudges_outstanding(context) -> dict:
    today = timezone.localdate()
    count = Nudge.objects.for_user(context["request"].user).filter(due_on__gte=today).count()
    url = reverse("admin:notifications_nudge_changelist") + f"?due_on__gte={today.isoformat()}"
    return {"count": count, "url": url}
