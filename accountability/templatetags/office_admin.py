"""`{% office_today as today %}`: the admin landing page's counts for the signed-in user."""

from django import template
from django.utils import timezone

register = template.Library()


@register.simple_tag(takes_context=True)
def office_today(context):
    from ..admin.landing import office_today as summary

    return summary(context["request"].user, as_of=timezone.localdate())
