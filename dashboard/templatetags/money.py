"""`{{ amount|money:currency }}`: money in the organization's currency (programs.money)."""

from django import template

from programs.money import format_money

register = template.Library()


@register.filter
def money(amount, currency: str | None = None) -> str:
    return format_money(amount, currency)
