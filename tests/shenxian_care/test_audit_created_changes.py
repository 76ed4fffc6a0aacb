"""`created_changes` (the batch audit's changes of a new row) is django-auditlog's own diff, built faster."""

import pytest
from auditlog.diff import model_instance_diff
from django.test import override_settings

from shenxian_care import audit
from shenxian_care.audit import created_changes, mark_new
from tests.factories import AgreementFactory, RecipientFactory

from ..services.factories import VisitFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("use_json", [False, True])
def test_created_changes_are_auditlogs_diff_of_a_new_row_masked_as_registered(use_json):
    # given rows of registered models: one with sensitive fields (masked in the record), visits of each shape
    recipient = RecipientFactory()
    agreement = AgreementFactory(recipient=recipient)
    rows = [
        recipient,
        agreement,
        VisitFactory(agreement=agreement, note="a\tb\nc \\ d"),
        VisitFactory(agreement=agreement, ended_at=None, checkin_latitude=None, checkin_longitude=None),
    ]
    with override_settings(AUDITLOG_STORE_JSON_CHANGES=use_json):
        audit._plans.clear()
        for row in rows:
            mark_new(row)
            # then ours is auditlog's, field for field (and the masked ones masked alike)
            theirs = model_instance_diff(None, row, use_json_for_changes=use_json)
            assert created_changes(row) == theirs, type(row)
    assert "*" in created_changes(recipient)["id_number"][1]
    audit._plans.clear()
