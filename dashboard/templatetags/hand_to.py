"""`{{ people|options_without:owner_id }}`: the "Hand to" options of a flag (PeopleChoices)."""

from django import template

register = template.Library()


@register.filter
def options_without(people, owner_id):
    return people.options_without(owner_id)
