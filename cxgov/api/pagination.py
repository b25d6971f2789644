"""Pagination of the API: `count`, `next`, `previous`, `results`, with large counts cached.

An exact COUNT(*) of a big list costs more than the page itself (counting 100k
measurements of an organization takes ~20 ms on PostgreSQL, the page of 100 ~5 ms). A
count of at least `CXGOV_API_COUNT_CACHE_MIN` rows is therefore kept for
`CXGOV_API_COUNT_CACHE_SECONDS` in the default cache, keyed by what determines the
queryset: the path, the filters (every query parameter but page, page_size and
ordering) and the caller's organizations. Smaller counts, which is every filtered list
in practice, are always exact; the rows themselves are never cached, and a page is never
cut at a cached count (a list that grew shows its new rows; `next` catches up within the
TTL).
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.utils.functional import cached_property

from cxgov.pagination import PageNumberPagination
from programs.access import organization_ids

_NOT_FILTERS = {"page", "page_size", "ordering", "format"}


class CountCachingPaginator(Paginator):
    cache_key: str | None = None

    @cached_property
    def count(self) -> int:
        seconds = getattr(settings, "CXGOV_API_COUNT_CACHE_SECONDS", 30)
        if not seconds or self.cache_key is None:
            return super().count
        cached = cache.get(self.cache_key)
        if cached is not None:
            return cached
        count = super().count
        if count >= getattr(settings, "CXGOV_API_COUNT_CACHE_MIN", 10_000):
            cache.set(self.cache_key, count, seconds)
        return count

    def page(self, number):
        # Never cut a page at the (possibly cached) count: rows are always live.
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        return self._get_page(self.object_list[bottom : bottom + self.per_page], number, self)


def count_cache_key(request, queryset) -> str:
    filters = sorted((k, v) for k, values in request.query_params.lists() if k not in _NOT_FILTERS for v in values)
    scope = organization_ids(request.user)
    raw = f"{queryset.model._meta.label}|{request.path}|{filters}|{'all' if scope is None else sorted(scope)}"
    return "api-count:" + hashlib.sha256(raw.encode()).hexdigest()


class Pagination(PageNumberPagination):
    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        return super().paginate_queryset(queryset, request, view)

    def django_paginator_class(self, object_list, per_page) -> CountCachingPaginator:
        """DRF builds its Paginator through this name; as a method it can key the count cache."""
        paginator = CountCachingPaginator(object_list, per_page)
        paginator.cache_key = count_cache_key(self.request, object_list)
        return paginator
