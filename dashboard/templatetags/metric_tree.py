"""`{% for node, closes in roots|in_tree_order %}`: the metric cascade as one flat loop."""

from django import template

from dashboard.program import in_tree_order as walk

register = template.Library()


@register.filter
def in_tree_order(roots):
    return walk(roots)
