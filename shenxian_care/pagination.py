"""Paging of lists that can hold the whole county's history (visits): a page must not cost a count of every row."""

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination

# Below this many rows an exact COUNT(*) is cheap, and exact.
ESTIMATE_FROM = 200_000


def estimated_rows(queryset):
    """The planner's estimate of the rows of `queryset`'s table (PostgreSQL's pg_class.reltuples, kept by
    autovacuum's ANALYZE), when the queryset reads the whole table with no condition; otherwise None."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql" or queryset.query.where or queryset.query.distinct:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [queryset.model._meta.db_table]
        )
        row = cursor.fetchone()
    return row[0] if row and row[0] >= 0 else None


class LargeTablePaginator(Paginator):
    """A paginator whose count of a whole, large table is the planner's estimate (one catalogue read) instead of
    a COUNT(*) of every row; a filtered list, or a table under ESTIMATE_FROM rows, is counted exactly. The
    estimate is as fresh as the table's last ANALYZE, so the last page may come out short or empty."""

    @cached_property
    def count(self):
        estimate = estimated_rows(self.object_list) if hasattr(self.object_list, "query") else None
        if estimate is not None and estimate >= ESTIMATE_FROM:
            return estimate
        return super().count


class LargeTablePagination(PageNumberPagination):
    django_paginator_class = LargeTablePaginator
