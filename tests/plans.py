"""PostgreSQL's plan for a queryset, for tests that an index serves a list's order."""

from django.db import connection


def ordered_plan(queryset) -> str:
    """EXPLAIN of `queryset` with sequential scans and sorts ruled out, so the plan shows
    whether an index can return its rows in order. PostgreSQL only; call inside a test's
    transaction (the settings are local to it)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        sql, params = queryset.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())
