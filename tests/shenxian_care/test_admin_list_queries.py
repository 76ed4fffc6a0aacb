"""Every admin change list reads a fixed number of queries whatever the number of rows on the page: a column
that reads a related record (a village's town, a contract's provider) comes with the page, never one query a row.

The same lists are opened with one row of each kind and with several, each row with its own related records
(its own village in its own town, its own provider, contract and caregiver), and must cost the same."""

import datetime

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.actions import settlement_compute
from recipients import actions as recipient_actions
from recipients.models import Assessment, Town
from tests.billing.factories import DeductionFactory
from tests.factories import AgreementFactory, ContractFactory, RecipientFactory, VillageFactory
from tests.services.factories import VisitFactory, local

pytestmark = pytest.mark.django_db

MONTH = datetime.date(2024, 3, 1)


def add_rows(bureau, start, n):
    """n more of each listed record, each with related records of its own."""
    towns = list(Town.objects.order_by("pk"))
    for i in range(start, start + n):
        village = VillageFactory(town=towns[i % len(towns)], name=f"查询村{i}")
        recipient = RecipientFactory(village=village, town=village.town)
        contract = ContractFactory()
        agreement = AgreementFactory(recipient=recipient, provider=contract.provider, contract=contract)
        VisitFactory(agreement=agreement, started_at=local(2024, 3, 5 + i % 20))
        DeductionFactory(contract=contract, verified_on=MONTH + datetime.timedelta(days=i % 20))
        recipient_actions.assessment_create(
            actor=bureau,
            recipient=recipient,
            assessed_on=datetime.date(2024, 3, 2),
            answers={field: True for field, _ in Assessment.INDICATORS},
        )
        recipient_actions.exit_report(
            actor=bureau, recipient=recipient, reason="death", occurred_on=datetime.date(2024, 6, 1)
        )
    settlement_compute(actor=None, month=MONTH)


def changelist_queries(client):
    counts = {}
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[url] = len(ctx.captured_queries)
    return counts


def test_every_admin_list_costs_the_same_with_one_row_and_with_many(client_as, bureau_user):
    # given one row of each kind
    add_rows(bureau_user, 0, 1)
    client = client_as(bureau_user)
    changelist_queries(client)  # warm the per-process caches (content types, the service standard)
    one = changelist_queries(client)

    # when there are six, each with its own related records
    add_rows(bureau_user, 1, 5)
    many = changelist_queries(client)

    # then no list reads anything per row
    grew = {url: (one[url], many[url]) for url in one if many[url] != one[url]}
    assert grew == {}


@pytest.mark.parametrize("rows", [1, 8])
@pytest.mark.parametrize(
    ("url", "queries"),
    [
        # each: the session and the user, the filters' choices, one COUNT, the page, the overdue-outbox check, the
        # session's save (3); the visits' list also the first visit's date for its date bar (one index look-up)
        ("admin:recipients_recipient_changelist", 10),
        ("admin:services_visit_changelist", 11),
        ("admin:contracts_agreement_changelist", 11),
    ],
)
def test_a_list_page_has_a_fixed_query_count(client_as, bureau_user, django_assert_num_queries, rows, url, queries):
    add_rows(bureau_user, 0, rows)
    client = client_as(bureau_user)
    client.get(reverse(url))  # warm the per-process caches
    with django_assert_num_queries(queries):
        response = client.get(reverse(url))
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == rows
