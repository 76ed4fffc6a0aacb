"""Roster import: an unknown village and a list much shorter than last month's are confirmed in so many words;
no empty error table; failed uploads of a month do not pile up."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from recipients.actions import roster_apply, roster_apply_request, roster_preview
from recipients.models import MonthlyRoster, Recipient, RosterStatus, Village
from shenxian_care.exceptions import ApplicationError
from tests.factories import VillageFactory, make_id_number, town
from tests.recipients.test_roster_import import row, workbook

OCTOBER = datetime.date(2026, 10, 1)
SEPTEMBER = datetime.date(2026, 9, 1)


def upload(client, content, month="2026-10"):
    return client.post(
        reverse("recipients:roster_upload"), {"month": month, "file": SimpleUploadedFile("名单.xlsx", content)}
    )


def september_of(bureau_user, n):
    """Last month's applied roster of `n` people of 燕塔街道东关村; returns their ID numbers."""
    ids = [make_id_number() for _ in range(n)]
    roster = roster_preview(
        actor=bureau_user,
        month=SEPTEMBER,
        file_name="九月.xlsx",
        content=workbook([row(f"人{i}", id_number) for i, id_number in enumerate(ids)]),
    )
    roster_apply(actor=bureau_user, roster=roster)
    return ids


@pytest.mark.django_db(transaction=True)
def test_an_unknown_village_is_a_warning_the_bureau_confirms(client_as, bureau_user):
    # (transaction=True: the check and the import run as background tasks once the upload is committed)
    VillageFactory(town=town("燕塔街道"), name="东关村")
    client = client_as(bureau_user)
    url = upload(client, workbook([row("甲", make_id_number()), row("乙", make_id_number(), village="东官村")])).url

    page = client.get(url).content.decode()
    assert "名单中有1个村（居）在系统中没有：燕塔街道东官村。" in page
    assert '<input type="checkbox" name="confirm" value="villages"> 已核对，确认新建以上1个村（居）' in page

    # applying without ticking the box is refused, and nothing is written
    page = client.post(url, {"decision": "apply"}, follow=True).content.decode()
    assert "导入前请确认：名单中有1个村（居）在系统中没有：燕塔街道东官村。" in page
    assert MonthlyRoster.objects.get().status == RosterStatus.PREVIEW
    assert not Recipient.objects.exists()
    assert not Village.objects.filter(name="东官村").exists()

    # ticked: imported, and the village is created
    client.post(url, {"decision": "apply", "confirm": "villages"})
    assert MonthlyRoster.objects.get().status == RosterStatus.APPLIED
    assert Recipient.objects.count() == 2
    assert Village.objects.filter(town=town("燕塔街道"), name="东官村").exists()


@pytest.mark.django_db
def test_known_villages_and_a_list_as_long_as_last_months_need_no_confirmation(client_as, bureau_user):
    ids = september_of(bureau_user, 10)
    # nine of ten: 10% fewer is not more than 10%
    roster = roster_preview(
        actor=bureau_user, month=OCTOBER, file_name="十月.xlsx", content=workbook([row("人", i) for i in ids[:9]])
    )
    page = client_as(bureau_user).get(reverse("recipients:roster_preview", args=[roster.pk])).content.decode()
    assert 'name="confirm"' not in page
    assert roster_apply_request(actor=bureau_user, roster=roster).status == RosterStatus.APPLYING


@pytest.mark.django_db(transaction=True)
def test_a_roster_more_than_10_percent_shorter_than_last_month_is_confirmed_naming_the_count(client_as, bureau_user):
    ids = september_of(bureau_user, 10)
    client = client_as(bureau_user)
    url = upload(client, workbook([row("人", i) for i in ids[:8]])).url

    page = client.get(url).content.decode()
    assert "本次名单比上月少 2 人（20.0%），请确认（上月2026年09月名单10人，本次8人）。" in page
    assert "已核对，确认本次名单比上月少 2 人" in page

    page = client.post(url, {"decision": "apply"}, follow=True).content.decode()
    assert "导入前请确认：本次名单比上月少 2 人（20.0%），请确认" in page
    october = MonthlyRoster.objects.get(month=OCTOBER)
    assert october.status == RosterStatus.PREVIEW

    client.post(url, {"decision": "apply", "confirm": "shrink"})
    october.refresh_from_db()
    assert october.status == RosterStatus.APPLIED


@pytest.mark.django_db
def test_the_action_refuses_until_every_confirmation_is_given(bureau_user):
    ids = september_of(bureau_user, 4)
    roster = roster_preview(
        actor=bureau_user,
        month=OCTOBER,
        file_name="十月.xlsx",
        content=workbook([row("人", ids[0]), row("新", make_id_number(), village="新村")]),
    )
    with pytest.raises(ApplicationError) as refused:
        roster_apply_request(actor=bureau_user, roster=roster, confirmed=["villages"])
    assert "本次名单比上月少 2 人（50.0%）" in refused.value.message
    assert "村（居）" not in refused.value.message  # the villages were confirmed
    roster.refresh_from_db()
    assert roster.status == RosterStatus.PREVIEW
    applying = roster_apply_request(actor=bureau_user, roster=roster, confirmed=["villages", "shrink"])
    assert applying.status == RosterStatus.APPLYING


@pytest.mark.django_db(transaction=True)
def test_a_failure_with_no_row_errors_shows_no_error_table(client_as, bureau_user):
    client = client_as(bureau_user)
    url = upload(client, workbook([["甲", "x"]], header=["姓名", "备注"])).url
    page = client.get(url).content.decode()
    assert "表头缺少必填列" in page
    assert "错误清单" not in page and "<table" not in page


@pytest.mark.django_db(transaction=True)
def test_failed_uploads_of_a_month_do_not_pile_up(client_as, bureau_user):
    client = client_as(bureau_user)
    upload(client, workbook([row(town_name="火星镇")]), month="2026-09")
    for _ in range(3):
        upload(client, workbook([row(level="很好")]))
    # one failed upload for October (the latest), September's left alone
    assert list(MonthlyRoster.objects.values_list("month", "status").order_by("month")) == [
        (SEPTEMBER, RosterStatus.FAILED),
        (OCTOBER, RosterStatus.FAILED),
    ]
    # a good upload of October supersedes its failed one too
    upload(client, workbook([row("甲", make_id_number())]))
    assert list(MonthlyRoster.objects.filter(month=OCTOBER).values_list("status", flat=True)) == [RosterStatus.PREVIEW]
    page = client.get(reverse("recipients:roster_upload")).content.decode()
    assert page.count("有错误，未导入") == 1  # September's
    assert page.count(">2026年10月</a>") == 1
