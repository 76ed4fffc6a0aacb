import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from contracts.models import DeductionRule
from shenxian_care.exceptions import ApplicationError
from supervision import actions, selectors
from supervision.models import Deduction, DeductionSource, ProblemStatus, SeriousProblemReport
from tests.factories import town

from .factories import contract_with_rule, png_upload

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 10, 12)


@pytest.fixture
def report(town_user, provider, yanta_agreements):
    return actions.serious_problem_report(
        actor=town_user,
        provider=provider,
        occurred_on=DAY,
        description="连续两周未上门，老人卫生状况差",
        recipient=yanta_agreements[0].recipient,
        photos=[png_upload()],
    )


def test_town_reports_with_photo_for_its_own_town(report, provider_contract):
    assert report.status == ProblemStatus.REPORTED
    assert report.town.name == "燕塔街道"
    assert report.contract == provider_contract[0]
    assert report.photos.count() == 1
    assert report.photos.get().image.name.startswith("supervision/problems/")


def test_town_cannot_report_for_another_town(other_town_user, provider, yanta_agreements):
    with pytest.raises(ApplicationError, match="本镇"):
        actions.serious_problem_report(
            actor=other_town_user, provider=provider, occurred_on=DAY, description="x", town=town("燕塔街道")
        )


def test_provider_cannot_report(provider_user, provider, yanta_agreements):
    with pytest.raises(PermissionDenied):
        actions.serious_problem_report(actor=provider_user, provider=provider, occurred_on=DAY, description="x")


@pytest.mark.parametrize(
    "upload, message",
    [
        (SimpleUploadedFile("fake.jpg", b"not an image at all", content_type="image/jpeg"), "不是有效的图片"),
        (None, "格式不支持"),
    ],
)
def test_photo_type_is_checked(town_user, provider, yanta_agreements, upload, message):
    if upload is None:
        import io

        from PIL import Image

        buffer = io.BytesIO()
        Image.new("RGB", (10, 10)).save(buffer, format="GIF")
        upload = SimpleUploadedFile("a.gif", buffer.getvalue(), content_type="image/gif")
    with pytest.raises(ApplicationError, match=message):
        actions.serious_problem_report(
            actor=town_user, provider=provider, occurred_on=DAY, description="x", photos=[upload]
        )
    assert not SeriousProblemReport.objects.exists()


def test_photo_size_is_checked(town_user, provider, yanta_agreements):
    big = png_upload()
    big.size = 6 * 1024 * 1024
    with pytest.raises(ApplicationError, match="超过5MB"):
        actions.serious_problem_report(
            actor=town_user, provider=provider, occurred_on=DAY, description="x", photos=[big]
        )


def test_verified_problem_creates_the_scheduled_deduction(report, bureau_user, provider, provider_contract):
    contract, rule = provider_contract

    report = actions.serious_problem_verify(
        actor=bureau_user, report=report, reason="现场核实属实", rule=rule, verified_on=datetime.date(2026, 10, 20)
    )

    deduction = Deduction.objects.get()
    assert report.status == ProblemStatus.VERIFIED
    assert report.deduction == deduction
    assert (deduction.provider, deduction.contract, deduction.rule) == (provider, contract, rule)
    assert deduction.amount == Decimal("200.00")
    assert deduction.source == DeductionSource.SERIOUS_PROBLEM
    assert deduction.verified_on == datetime.date(2026, 10, 20)
    assert deduction.recipient == report.recipient
    assert deduction.amount_changed_reason == ""


def test_bureau_may_change_the_amount_only_with_a_reason(report, bureau_user, provider_contract):
    _, rule = provider_contract
    with pytest.raises(ApplicationError, match="调整理由"):
        actions.serious_problem_verify(actor=bureau_user, report=report, reason="属实", rule=rule, amount="150")
    assert not Deduction.objects.exists()

    actions.serious_problem_verify(
        actor=bureau_user, report=report, reason="属实", rule=rule, amount="150", amount_changed_reason="情节较轻"
    )
    deduction = Deduction.objects.get()
    assert deduction.amount == Decimal("150.00")
    assert deduction.amount_changed_reason == "情节较轻"


def test_rejected_problem_creates_no_deduction(report, bureau_user):
    with pytest.raises(ApplicationError, match="理由"):
        actions.serious_problem_reject(actor=bureau_user, report=report, reason="")
    report = actions.serious_problem_reject(actor=bureau_user, report=report, reason="经核实系误报")
    assert report.status == ProblemStatus.REJECTED
    assert report.deduction is None
    assert not Deduction.objects.exists()
    with pytest.raises(ApplicationError, match="已查证"):
        actions.serious_problem_verify(
            actor=bureau_user, report=report, reason="属实", rule=DeductionRule.objects.get()
        )


def test_rule_must_come_from_the_reports_contract(report, bureau_user, other_provider):
    _, foreign_rule = contract_with_rule(other_provider, amount="999.00")
    with pytest.raises(ApplicationError, match="扣款标准"):
        actions.serious_problem_verify(actor=bureau_user, report=report, reason="属实", rule=foreign_rule)
    assert not Deduction.objects.exists()


def test_town_cannot_verify(report, town_user, provider_contract):
    with pytest.raises(PermissionDenied):
        actions.serious_problem_verify(actor=town_user, report=report, reason="属实", rule=provider_contract[1])


def test_verify_with_deadline_issues_a_rectification_notice(report, bureau_user, provider_contract):
    deadline = timezone.localdate() + datetime.timedelta(days=10)
    report = actions.serious_problem_verify(
        actor=bureau_user, report=report, reason="属实", rule=provider_contract[1], rectification_deadline=deadline
    )
    notice = report.notices.get()
    assert notice.deadline == deadline
    assert notice.source == "serious_problem"


def test_visibility_of_reports(
    report, bureau_user, town_user, other_town_user, provider_user, other_provider_user, provider_contract
):
    assert list(selectors.serious_problem_list(actor=town_user)) == [report]
    assert not selectors.serious_problem_list(actor=other_town_user).exists()
    # the provider learns of it only once verified
    assert not selectors.serious_problem_list(actor=provider_user).exists()
    actions.serious_problem_verify(actor=bureau_user, report=report, reason="属实", rule=provider_contract[1])
    assert list(selectors.serious_problem_list(actor=provider_user)) == [report]
    assert not selectors.serious_problem_list(actor=other_provider_user).exists()
    deductions = Deduction.objects.for_actor(other_provider_user)
    assert not deductions.exists()
