"""Pagination of the API: `count`, `next`, `previous`, `results`, with large counts cached.

An exact COUNT(*) of a big list costs more than the page itself (counting 100k
measurements of an organization takes ~20 ms on PostgreSQL, the page of 100 ~5 ms). A
count of at least `CXGOV_API_COUNT_CACHE_MIN` rows is therefore kept for
`CXGOV_API_COUNT_CACHE_SECONDS` in the default cache, keyed by what determines the
queryset: the path, the filters (every query parameter but page, page_size and
ordering) and the caller's organizations. Smaller counts, which is every filtered list
in practice, are always exact; the rows themselves are never cached, and a page is never
cut at a cached count (a list that grew shows its new rows; `next` catches up within the
TTL). A page that is not full needs no COUNT(*) at all: it is the last, so its rows give
the count (a list shorter than a page, as most filtered lists are, is one query).
"""

import hashlib
import re

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import InvalidPage, Paginator
from django.utils.functional import cached_property
from rest_framework.exceptions import ValidationError

from cxgov.pagination import PageNumberPagination
from programs.access import organization_ids

_NOT_FILTERS = {"page", "page_size", "ordering", "format"}
MAX_OFFSET = 2**63 - 1  # PostgreSQL's OFFSET is a bigint


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

    def page(self, number: int):
        """Page `number` (a whole number from 1: `Pagination.get_page_number` checked it).

        The rows are read first: a page that is not full is the last one, and its rows give
        the count without a COUNT(*) (every list shorter than a page, every list's last
        page). A full page, or an empty one past the first, asks the count, which also
        decides whether the page exists.
        """
        bottom = (number - 1) * self.per_page
        if bottom + self.per_page > MAX_OFFSET:
            # Further than OFFSET (a bigint) reaches, and than any list's rows: the count says
            # there is no such page (a 400), where the database would refuse the offset.
            self.validate_number(number)
        # Never cut a page at the (possibly cached) count: rows are always live.
        rows = list(self.object_list[bottom : bottom + self.per_page])
        if 0 < len(rows) < self.per_page or (number == 1 and not rows):
            self.__dict__["count"] = bottom + len(rows)  # exact: these are the last rows
        else:
            self.validate_number(number)
        return self._get_page(rows, number, self)


def count_cache_key(request, queryset) -> str:
    filters = sorted((k, v) for k, values in request.query_params.lists() if k not in _NOT_FILTERS for v in values)
    scope = organization_ids(request.user)
    raw = f"{queryset.model._meta.label}|{request.path}|{filters}|{'all' if scope is None else sorted(scope)}"
    return "api-count:" + hashlib.sha256(raw.encode()).hexdigest()


_WHOLE = re.compile(r"^[0-9]{1,19}$")


def _whole(raw: str) -> int | None:
    return int(raw) if _WHOLE.match(raw) else None


class Pagination(PageNumberPagination):
    """`?page=` and `?page_size=` checked strictly: a value that is not a page is a 400.

    DRF answers a page past the end (or 0, or "abc") with a 404 and quietly replaces a bad
    `page_size` by the default; a client then reads a wrong page without knowing. Here each
    is refused with a 400 saying what is allowed: `page` a whole number from 1 to the last
    page (page 1 of an empty list exists), `page_size` a whole number from 1 to 1,000.
    """

    last_page_strings = ()  # "last" is not a page number the schema documents

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = _whole(raw)
        if size is None or not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size:,}; got {raw[:20]!r}."]}
            )
        return size

    def get_page_number(self, request, paginator) -> int:
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        number = _whole(raw)
        if number is None or number < 1:
            raise ValidationError({self.page_query_param: [f"A whole number from 1; got {raw[:20]!r}."]})
        return number

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        page_size = self.get_page_size(request)
        paginator = self.django_paginator_class(queryset, page_size)
        number = self.get_page_number(request, paginator)
        try:
            self.page = paginator.page(number)
        except InvalidPage:
            last = paginator.num_pages
            raise ValidationError(
                {self.page_query_param: [f"There is no page {number}: the list has {last} page{'s' * (last != 1)}."]}
            ) from None
        return list(self.page)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
                parameter["description"] = f"Number of results to return per page (1 to {self.max_page_size:,})."
        return parameters

    def django_paginator_class(self, object_list, per_page) -> CountCachingPaginator:
        """DRF builds its Paginator through this name; as a method it can key the count cache."""
        paginator = CountCachingPaginator(object_list, per_page)
        paginator.cache_key = count_cache_key(self.request, object_list)
        return paginator
