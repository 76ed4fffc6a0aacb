"""Paging of lists that can hold the whole county's history (visits): a page must not cost a count of every row."""

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination

# Below this many rows an exact COUNT(*) is cheap, and exact.
ESTIMATE_FROM = 200_000


def whole_table_count(queryset):
    """The count of `queryset` when it reads its whole table with no condition, on PostgreSQL: the planner's
    estimate (pg_class.reltuples, kept by autovacuum's ANALYZE) once the table holds ESTIMATE_FROM rows or more,
    an exact COUNT(*) below that, in one query either way (the COUNT runs only when asked for). None otherwise."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql" or queryset.query.where or queryset.query.distinct:
        return None
    table = connection.ops.quote_name(queryset.model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT CASE WHEN reltuples >= %s THEN reltuples::bigint ELSE (SELECT COUNT(*) FROM {table}) END "  # noqa: S608  # nosec B608 - a model's own table name
            "FROM pg_class WHERE oid = %s::regclass",
            [ESTIMATE_FROM, queryset.model._meta.db_table],
        )
        return cursor.fetchone()[0]


class LargeTablePaginator(Paginator):
    """A paginator whose count of a whole, large table is the planner's estimate instead of a COUNT(*) of every
    row; a filtered list, or a table under ESTIMATE_FROM rows, is counted exactly. The estimate is as fresh as the
    table's last ANALYZE, so the last page may come out short or empty."""

    @cached_property
    def count(self):
        counted = whole_table_count(self.object_list) if hasattr(self.object_list, "query") else None
        return counted if counted is not None else super().count


class LargeTablePagination(PageNumberPagination):
    django_paginator_class = LargeTablePaginator
