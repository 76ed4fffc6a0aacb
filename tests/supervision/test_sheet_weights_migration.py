"""Migration 0009: the placeholder sheet (every weight 1) gets weights that add up to 100, without touching a sheet
that submitted evaluations were scored on."""

import datetime
import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone

from supervision.models import Evaluation, EvaluationSheet

pytestmark = pytest.mark.django_db

migration = importlib.import_module("supervision.migrations.0009_evaluation_weights_add_up_to_100")


def placeholder_weights(sheet):
    sheet.items.update(weight=1)


def test_an_unused_placeholder_sheet_takes_its_maxima_as_weights():
    sheet = EvaluationSheet.objects.get(is_current=True)
    placeholder_weights(sheet)
    migration.weights_from_maxima(apps, None)
    assert [(i.weight, i.max_score) for i in sheet.items.all()] == [
        (i.max_score, i.max_score) for i in sheet.items.all()
    ]
    assert EvaluationSheet.objects.count() == 1


def test_a_sheet_scored_on_keeps_its_weights_and_a_new_current_version_takes_the_maxima(town_user, provider):
    sheet = EvaluationSheet.objects.get(is_current=True)
    placeholder_weights(sheet)
    Evaluation.objects.create(
        town=town_user.town, provider=provider, month=datetime.date(2026, 9, 1), sheet=sheet, created_by=town_user,
        status="submitted", total_score=Decimal("90.00"), submitted_at=timezone.now(),
    )  # fmt: skip

    migration.weights_from_maxima(apps, None)

    assert set(sheet.items.values_list("weight", flat=True)) == {Decimal(1)}
    current = EvaluationSheet.objects.get(is_current=True)
    assert current.version == sheet.version + 1
    assert sum(i.weight for i in current.items.all()) == 100
    assert [i.code for i in current.items.all()] == [i.code for i in sheet.items.all()]
    # run again: nothing more changes
    migration.weights_from_maxima(apps, None)
    assert EvaluationSheet.objects.count() == 2
