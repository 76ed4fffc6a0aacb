"""The bureau imports a roster through the portal; towns report changes; pages keep what was typed."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from recipients.models import Assessment, MonthlyRoster, Recipient, SupportExit
from tests.factories import RecipientFactory, make_id_number
from tests.recipients.test_roster_import import row, workbook


def upload(client, content, month="2026-10"):
    return client.post(
        reverse("recipients:roster_upload"),
        {"month": month, "file": SimpleUploadedFile("名单.xlsx", content)},
    )


@pytest.mark.django_db(transaction=True)
def test_bureau_uploads_sees_the_diff_and_applies(client_as, bureau_user):
    # (transaction=True: the check and the import run as background tasks once the upload is committed)
    client = client_as(bureau_user)
    response = upload(client, workbook([row("甲", make_id_number()), row("乙", make_id_number(), level="失能")]))
    roster = MonthlyRoster.objects.get()
    assert response.status_code == 302 and response.url == reverse("recipients:roster_preview", args=[roster.pk])
    page = client.get(response.url).content.decode()
    assert "新增（2）" in page and "确认导入" in page
    assert Recipient.objects.count() == 0
    client.post(response.url, {"decision": "apply", "confirm": "villages"})  # the file's villages are new
    assert Recipient.objects.count() == 2
    assert "名单已导入，共2人" in client.get(response.url).content.decode()
    progress = client.get(reverse("recipients:roster_progress", args=[roster.pk])).json()
    assert progress == {"status": "applied", "status_display": "已导入", "done": 2, "total": 2, "running": False}


@pytest.mark.django_db(transaction=True)
def test_bad_file_shows_every_error_and_changes_nothing(client_as, bureau_user):
    client = client_as(bureau_user)
    response = upload(client, workbook([row(town_name="火星镇"), row(level="很好")]))
    page = client.get(response.url).content.decode()
    assert "未知的镇（街道）“火星镇”" in page and "自理能力“很好”无法识别" in page
    assert "未导入任何数据" in page
    assert MonthlyRoster.objects.get().status == "failed"
    assert Recipient.objects.count() == 0


@pytest.mark.django_db
def test_while_checking_the_page_shows_progress(client_as, bureau_user, django_capture_on_commit_callbacks):
    client = client_as(bureau_user)
    # the background check has not run yet (its on-commit callback is held back)
    with django_capture_on_commit_callbacks(execute=False):
        response = upload(client, workbook([row("甲", make_id_number())]))
    page = client.get(response.url).content.decode()
    assert "正在逐行检查名单" in page and "<progress" in page
    assert client.get(reverse("recipients:roster_progress", args=[MonthlyRoster.objects.get().pk])).json()["running"]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["town_user", "provider_user", "finance_user", "caregiver_user"])
def test_only_bureau_reaches_the_roster_import(request, client_as, who):
    client = client_as(request.getfixturevalue(who))
    assert client.get(reverse("recipients:roster_upload")).status_code == 403
    assert client.get(reverse("recipients:roster_template")).status_code == 403


@pytest.mark.django_db
def test_template_download(client_as, bureau_user):
    response = client_as(bureau_user).get(reverse("recipients:roster_template"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


@pytest.mark.django_db
def test_town_reports_a_change_of_condition_and_an_exit(client_as, town_user):
    recipient = RecipientFactory(level="self_care")
    client = client_as(town_user)
    data = {"assessed_on": "2026-11-01", "note": "摔伤后行动不便"}
    data.update({f: "1" for f, _ in Assessment.INDICATORS})
    data.update({"can_walk_indoors": "0", "can_bathe": "0"})
    response = client.post(reverse("recipients:assessment_report", args=[recipient.pk]), data)
    assert response.status_code == 302
    assessment = Assessment.objects.get()
    assert assessment.level == "partial" and assessment.status == "pending"

    response = client.post(
        reverse("recipients:exit_report", args=[recipient.pk]), {"reason": "death", "occurred_on": "2026-11-20"}
    )
    assert response.status_code == 302
    reported = SupportExit.objects.get()  # died on 20 November: the day of death is paid, support ends the 21st
    assert (reported.occurred_on, reported.effective_date) == (datetime.date(2026, 11, 20), datetime.date(2026, 11, 21))


@pytest.mark.django_db
def test_domain_error_is_shown_on_the_form(client_as, town_user):
    recipient = RecipientFactory(entry_date=datetime.date(2025, 1, 1))
    response = client_as(town_user).post(
        reverse("recipients:exit_report", args=[recipient.pk]), {"reason": "death", "occurred_on": "2024-01-01"}
    )
    assert response.status_code == 200
    assert "退出日期不能早于纳入日期" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["bureau_user", "finance_user", "town_user", "provider_user", "caregiver_user"])
def test_home_page_for_every_role(request, client_as, who):
    user = request.getfixturevalue(who)
    response = client_as(user).get(reverse("portal:home"), follow=True)
    assert response.status_code == 200
    assert "莘县特困人员照料服务平台" in response.content.decode()


@pytest.mark.django_db
def test_find_by_full_id_number_is_a_post_and_scoped(client_as, town_user, other_town_user, api_as):
    recipient = RecipientFactory(name="查找对象")
    client = client_as(town_user)
    response = client.post(reverse("recipients:recipient_find"), {"id_number": recipient.id_number.lower()})
    assert response.url == reverse("recipients:recipient_detail", args=[recipient.pk])
    # another town gets no answer
    response = client_as(other_town_user).post(reverse("recipients:recipient_find"), {"id_number": recipient.id_number})
    assert response.url == reverse("recipients:recipient_list")
    assert (
        api_as(other_town_user).post("/api/v1/recipients/find/", {"id_number": recipient.id_number}).status_code == 404
    )
    found = api_as(town_user).post("/api/v1/recipients/find/", {"id_number": recipient.id_number})
    assert found.json()["name"] == "查找对象"


@pytest.mark.django_db
def test_list_search_by_name_or_last_digits_not_full_number(client_as, api_as, bureau_user):
    recipient = RecipientFactory(name="尾号人")
    RecipientFactory(name="别人")
    api = api_as(bureau_user)
    assert [r["name"] for r in api.get("/api/v1/recipients/", {"q": recipient.id_number[-4:]}).json()["results"]] == [
        "尾号人"
    ]
    assert [r["name"] for r in api.get("/api/v1/recipients/", {"q": "尾号"}).json()["results"]] == ["尾号人"]
    assert api.get("/api/v1/recipients/", {"q": recipient.id_number}).json()["count"] == 0


@pytest.mark.django_db(transaction=True)
def test_hostile_text_in_a_roster_is_stored_as_text_and_shown_escaped(client_as, bureau_user):
    xss, sqlish = "<script>alert(1)</script>", "a' OR '1'='1"
    client = client_as(bureau_user)
    response = upload(client, workbook([row(xss, make_id_number()), row(sqlish, make_id_number())]))
    client.post(response.url, {"decision": "apply", "confirm": "villages"})  # the file's villages are new
    assert set(Recipient.objects.values_list("name", flat=True)) == {xss, sqlish}
    page = client.get(reverse("recipients:recipient_list")).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and xss not in page


@pytest.mark.django_db(transaction=True)
def test_formulas_in_a_roster_are_never_evaluated(client_as, bureau_user):
    # A cell holding =HYPERLINK(...) has no value of its own: it is reported, not run.
    client = client_as(bureau_user)
    response = upload(client, workbook([row('=HYPERLINK("http://evil","x")', make_id_number())]))
    assert "姓名不能为空" in client.get(response.url).content.decode()
    assert Recipient.objects.count() == 0


@pytest.mark.django_db
def test_a_huge_file_is_refused_before_it_is_read(client_as, bureau_user):
    response = upload(client_as(bureau_user), b"PK" + b"\0" * (10 * 1024 * 1024 + 1))
    assert "文件过大" in response.content.decode()
    assert MonthlyRoster.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_non_excel_bytes_get_a_clear_error(client_as, bureau_user):
    client = client_as(bureau_user)
    response = upload(client, "姓名,身份证号\n张三,1".encode("gbk"))
    assert "请上传从省救助系统导出的 .xlsx 格式Excel文件" in client.get(response.url).content.decode()
