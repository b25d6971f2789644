"""Pagination of the API: `count`, `next`, `previous`, `results`, with large counts cached.

An exact COUNT(*) of a big list costs more than the page itself (counting 100k
measurements of an organization takes ~20 ms on PostgreSQL, the page of 100 ~5 ms). A
count of at least `CXGOV_API_COUNT_CACHE_MIN` rows is therefore kept for
`CXGOV_API_COUNT_CACHE_SECONDS` in the default cache, keyed by the query (so by the
caller's organizations and filters). Smaller counts, which is every filtered list in
practice, are always exact; the rows themselves are never cached, and a page is never cut
at a cached count (a list that grew shows its new rows; `next` catches up within the TTL).
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.utils.functional import cached_property

from cxgov.pagination import PageNumberPagination


class CountCachingPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        seconds = getattr(settings, "CXGOV_API_COUNT_CACHE_SECONDS", 30)
        query = getattr(self.object_list, "query", None)
        if not seconds or query is None:
            return super().count
        try:
            sql = str(query)
        except EmptyResultSet:  # e.g. a caller without organizations: nothing to count
            return 0
        key = "api-count:" + hashlib.sha256(f"{self.object_list.model._meta.label}|{sql}".encode()).hexdigest()
        cached = cache.get(key)
        if cached is not None:
            return cached
        count = super().count
        if count >= getattr(settings, "CXGOV_API_COUNT_CACHE_MIN", 10_000):
            cache.set(key, count, seconds)
        return count

    def page(self, number):
        # Never cut a page at the (possibly cached) count: rows are always live.
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        return self._get_page(self.object_list[bottom : bottom + self.per_page], number, self)


class Pagination(PageNumberPagination):
    django_paginator_class = CountCachingPaginator
