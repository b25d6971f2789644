from rest_framework.pagination import PageNumberPagination as _Base


class PageNumberPagination(_Base):
    """`count`, `next`, `previous`, `results`; clients pick up to 1,000 rows a page."""

    page_size_query_param = "page_size"
    max_page_size = 1000
