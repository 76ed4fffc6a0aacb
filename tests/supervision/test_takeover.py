import datetime

import pytest
from django.utils import timezone

from contracts.models import Agreement, AgreementStatus, ContractStatus
from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import JobProgress
from shenxian_care.progress import job_key
from supervision import actions
from supervision.models import HalfYearReview, Takeover, TakeoverStatus
from tests.factories import AgreementFactory, CaregiverFactory, ContractFactory, RecipientFactory, town

from .factories import serve

pytestmark = pytest.mark.django_db


def today():
    """Read when the test runs, not when the file is imported: a run may cross midnight (Beijing time)."""
    return timezone.localdate()


D = today() + datetime.timedelta(days=10)


@pytest.fixture
def old_agreements(provider, provider_contract):
    """Two recipients in 燕塔街道 (one 半失能) and one in 朝城镇 with an agreement ending in 2027."""
    yanta = serve(provider, "燕塔街道", n=1) + serve(provider, "燕塔街道", n=1, level="partial")
    chaocheng = serve(provider, "朝城镇", n=1)
    Agreement.objects.filter(pk=chaocheng[0].pk).update(end_date=datetime.date(2027, 6, 30))
    return yanta + chaocheng


@pytest.fixture
def terminated_review(bureau_user, provider, old_agreements):
    actions.review_build(half="2026H1")
    review = HalfYearReview.objects.get(provider=provider)
    return actions.review_decide(actor=bureau_user, review=review, decision="terminate", reason="一票否决")


@pytest.fixture
def new_provider(other_provider):
    ContractFactory(provider=other_provider)  # covers every town
    return other_provider


@pytest.fixture
def new_caregivers(new_provider):
    return {
        "yanta": CaregiverFactory(provider=new_provider, name="王接管"),
        "chaocheng": CaregiverFactory(provider=new_provider, name="赵朝城", home_town=town("朝城镇")),
    }


def covering(recipient, day):
    return list(Agreement.objects.in_force_on(day).filter(recipient=recipient))


def test_takeover_leaves_no_gap_and_no_double_agreement(
    bureau_user, provider, terminated_review, old_agreements, new_provider, new_caregivers
):
    yanta = town("燕塔街道")
    original_end = {a.pk: Agreement.objects.get(pk=a.pk).end_date for a in old_agreements}
    assert sorted(original_end.values(), key=str) == [datetime.date(2027, 6, 30), None, None]

    takeover = actions.takeover_execute(
        actor=bureau_user,
        review=terminated_review,
        new_provider=new_provider,
        takeover_date=D,
        caregivers={yanta.pk: new_caregivers["yanta"]},
    )

    assert takeover.lines.count() == 3
    for old in old_agreements:
        old.refresh_from_db()
        assert old.status == AgreementStatus.TERMINATED
        assert old.end_date == D - datetime.timedelta(days=1)
        for day in (D - datetime.timedelta(days=1), D, D + datetime.timedelta(days=1)):
            assert len(covering(old.recipient, day)) == 1, (old.recipient, day)
        [before] = covering(old.recipient, D - datetime.timedelta(days=1))
        [after] = covering(old.recipient, D)
        assert before.pk == old.pk
        assert after.provider == new_provider
        assert after.status == AgreementStatus.SIGNED
        assert (after.town, after.village, after.recipient) == (old.town, old.village, old.recipient)
        assert after.level_at_signing == old.level_at_signing
        assert after.start_date == D
        assert after.end_date == original_end[old.pk]
        assert after.replaces_id == old.pk
    by_town = {line.town.name: line.caregiver for line in takeover.lines.select_related("town", "caregiver")}
    assert by_town == {"燕塔街道": new_caregivers["yanta"], "朝城镇": new_caregivers["chaocheng"]}
    assert [line["result"] for line in takeover.report] == ["已移交"] * 3
    assert provider.contracts.get().status == ContractStatus.TERMINATED
    assert provider.contracts.get().terminated_on == D - datetime.timedelta(days=1)
    with pytest.raises(ApplicationError, match="已办理"):
        actions.takeover_execute(
            actor=bureau_user, review=terminated_review, new_provider=new_provider, takeover_date=D
        )


def test_takeover_fails_whole_if_one_agreement_cannot_move(
    bureau_user, provider, terminated_review, old_agreements, new_provider, new_caregivers
):
    # given an agreement that only starts after the takeover date: it cannot end the day before
    late = AgreementFactory(provider=provider, recipient=RecipientFactory(), start_date=D + datetime.timedelta(days=5))
    before = {a.pk: (a.status, a.end_date) for a in Agreement.objects.all()}

    with pytest.raises(ApplicationError) as caught:
        actions.takeover_execute(
            actor=bureau_user, review=terminated_review, new_provider=new_provider, takeover_date=D
        )

    assert "所有协议均未变动" in caught.value.message
    assert len(caught.value.extra["errors"]) == 1 and late.number in caught.value.extra["errors"][0]
    assert {a.pk: (a.status, a.end_date) for a in Agreement.objects.all()} == before
    assert not Agreement.objects.filter(provider=new_provider).exists()
    assert provider.contracts.get().status == ContractStatus.ACTIVE
    assert not Takeover.objects.exists()


def test_takeover_provider_needs_a_contract_for_every_town(
    bureau_user, terminated_review, old_agreements, other_provider, new_caregivers
):
    other_provider.contracts.all().delete()
    ContractFactory(provider=other_provider, towns=[town("燕塔街道")])
    with pytest.raises(ApplicationError, match="没有覆盖朝城镇"):
        actions.takeover_execute(
            actor=bureau_user, review=terminated_review, new_provider=other_provider, takeover_date=D
        )
    assert not Agreement.objects.filter(provider=other_provider).exists()


def test_takeover_provider_without_caregivers_fails(bureau_user, terminated_review, old_agreements, new_provider):
    with pytest.raises(ApplicationError) as caught:
        actions.takeover_execute(
            actor=bureau_user, review=terminated_review, new_provider=new_provider, takeover_date=D
        )
    assert len(caught.value.extra["errors"]) == 3
    assert all(line["result"] == "失败" for line in caught.value.extra["lines"])
    assert Agreement.objects.filter(status=AgreementStatus.SIGNED).count() == 3


def test_caregiver_of_another_provider_is_refused(
    bureau_user, terminated_review, old_agreements, new_provider, new_caregivers, caregiver
):
    with pytest.raises(ApplicationError, match="不属于接管机构"):
        actions.takeover_execute(
            actor=bureau_user,
            review=terminated_review,
            new_provider=new_provider,
            takeover_date=D,
            caregivers={town("燕塔街道").pk: caregiver},
        )


def test_only_a_terminate_decision_starts_a_takeover(bureau_user, provider, old_agreements, new_provider):
    actions.review_build(half="2026H1")
    review = actions.review_decide(
        actor=bureau_user, review=HalfYearReview.objects.get(provider=provider), decision="continue", reason="良好"
    )
    with pytest.raises(ApplicationError, match="决定终止"):
        actions.takeover_execute(actor=bureau_user, review=review, new_provider=new_provider, takeover_date=D)


def test_recipient_leaving_before_the_takeover_gets_no_new_agreement(
    bureau_user, terminated_review, old_agreements, new_provider, new_caregivers
):
    leaving = old_agreements[0].recipient
    leaving.exit_date = D - datetime.timedelta(days=2)
    leaving.save()
    takeover = actions.takeover_execute(
        actor=bureau_user, review=terminated_review, new_provider=new_provider, takeover_date=D
    )
    assert takeover.lines.count() == 2
    assert not Agreement.objects.filter(provider=new_provider, recipient=leaving).exists()


def test_requested_takeover_runs_after_commit(
    bureau_user, provider, terminated_review, old_agreements, new_provider, new_caregivers,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=False) as queued:
        takeover = actions.takeover_request(
            actor=bureau_user, review=terminated_review, new_provider=new_provider, takeover_date=D
        )
    assert takeover.status == TakeoverStatus.PENDING
    assert Agreement.objects.filter(provider=new_provider).count() == 0  # nothing moved yet
    with pytest.raises(ApplicationError, match="正在办理"):
        actions.takeover_request(
            actor=bureau_user, review=terminated_review, new_provider=new_provider, takeover_date=D
        )

    [callback] = queued
    callback()  # the worker picks it up

    takeover.refresh_from_db()
    assert takeover.status == TakeoverStatus.DONE
    assert takeover.lines.count() == 3
    assert actions.takeover_run(takeover_id=takeover.pk).status == TakeoverStatus.DONE  # idempotent
    assert Agreement.objects.filter(provider=new_provider).count() == 3


def test_failed_run_is_recorded_and_can_be_retried(
    bureau_user, provider, terminated_review, old_agreements, new_provider, django_capture_on_commit_callbacks
):
    # given the takeover provider has no caregiver yet: every line fails
    with django_capture_on_commit_callbacks(execute=True):
        takeover = actions.takeover_request(
            actor=bureau_user, review=terminated_review, new_provider=new_provider, takeover_date=D
        )
    takeover.refresh_from_db()
    assert takeover.status == TakeoverStatus.FAILED
    assert len(takeover.errors) == 3
    assert [line["result"] for line in takeover.report] == ["失败"] * 3
    assert Agreement.objects.filter(status=AgreementStatus.SIGNED, provider=provider).count() == 3
    assert provider.contracts.get().status == ContractStatus.ACTIVE

    # when a caregiver is hired and the bureau tries again, the same takeover record completes
    CaregiverFactory(provider=new_provider)
    retried = actions.takeover_execute(
        actor=bureau_user, review=terminated_review, new_provider=new_provider, takeover_date=D
    )
    assert retried.pk == takeover.pk
    assert retried.status == TakeoverStatus.DONE
    assert retried.errors == []


# Committed rows: on PostgreSQL the run's heartbeat is written from a connection of its own.
@pytest.mark.django_db(transaction=True)
def test_a_pending_takeover_whose_run_died_may_be_asked_again_and_happens_once(
    bureau_user, provider, terminated_review, old_agreements, new_provider, new_caregivers,
    django_capture_on_commit_callbacks, settings, monkeypatch,
):  # fmt: skip
    settings.JOB_LEASE_SECONDS = 45
    with monkeypatch.context() as queue_held:  # its task is with a worker, not run here
        queue_held.setattr("supervision.actions.takeover.enqueue", lambda *args: None)
        takeover = actions.takeover_request(
            actor=bureau_user, review=terminated_review, new_provider=new_provider, takeover_date=D
        )
    # given: a worker started it and was killed (its transaction rolled back, its heartbeat a minute old)
    JobProgress.objects.update_or_create(job=job_key(takeover))
    JobProgress.objects.filter(job=job_key(takeover)).update(updated_at=timezone.now() - datetime.timedelta(minutes=1))
    takeover.refresh_from_db()
    assert takeover.status == TakeoverStatus.PENDING

    # when the bureau asks again, it is accepted (not "正在办理" for hours) and runs
    with django_capture_on_commit_callbacks(execute=True):
        again = actions.takeover_request(
            actor=bureau_user, review=terminated_review, new_provider=new_provider, takeover_date=D
        )
    assert again.pk == takeover.pk
    again.refresh_from_db()
    assert again.status == TakeoverStatus.DONE and again.lines.count() == 3
    # and the dead run's own message, delivered late, changes nothing
    assert actions.takeover_run(takeover_id=takeover.pk).status == TakeoverStatus.DONE
    assert Agreement.objects.filter(provider=new_provider).count() == 3


def test_a_pending_takeover_still_running_is_not_asked_twice(
    bureau_user, provider, terminated_review, old_agreements, new_provider, new_caregivers,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=False):
        takeover = actions.takeover_request(
            actor=bureau_user, review=terminated_review, new_provider=new_provider, takeover_date=D
        )
    JobProgress.objects.update_or_create(job=job_key(takeover))  # its worker beats, just now
    with pytest.raises(ApplicationError, match="正在办理"):
        actions.takeover_request(
            actor=bureau_user, review=terminated_review, new_provider=new_provider, takeover_date=D
        )
