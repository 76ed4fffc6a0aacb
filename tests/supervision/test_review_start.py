"""The bureau starts the half-year review from the portal: no command line, once per half, bureau only."""

import pathlib

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from shenxian_care.exceptions import ApplicationError
from supervision import actions
from supervision.models import HalfYearReview

pytestmark = pytest.mark.django_db

H1 = "2026H1"


def test_the_bureau_starts_a_half_from_the_review_list_once(client_as, bureau_user, provider, provider_contract):
    client = client_as(bureau_user)
    page = client.get(reverse("supervision:review_list")).content.decode()
    assert "生成半年评估" in page
    assert "manage.py" not in page

    # when the bureau starts 2026H1 from the page
    response = client.post(reverse("supervision:review_start"), {"half": H1}, follow=True)

    # then the provider's review is there, and the page says so
    assert HalfYearReview.objects.filter(half=H1, provider=provider).count() == 1
    body = response.content.decode()
    assert "已生成2026H1半年评估1份" in body
    assert provider.name in body

    # and starting the same half again is refused, in Chinese, with nothing added or rebuilt
    built_at = HalfYearReview.objects.get(half=H1).built_at
    again = client.post(reverse("supervision:review_start"), {"half": H1}, follow=True).content.decode()
    assert "2026H1的半年评估已经生成（1份），不能重复生成。" in again
    review = HalfYearReview.objects.get(half=H1)
    assert (review.built_at, review.build_count) == (built_at, 1)


def test_a_half_not_offered_is_refused_in_chinese(client_as, bureau_user, provider_contract):
    client = client_as(bureau_user)
    body = client.post(reverse("supervision:review_start"), {"half": "2099H1"}, follow=True).content.decode()
    assert "请选择已结束的半年度。" in body
    assert not HalfYearReview.objects.exists()


@pytest.mark.parametrize("role", ["town_user", "provider_user", "finance_user"])
def test_only_the_bureau_may_start_a_review(request, client_as, role, provider_contract):
    user = request.getfixturevalue(role)
    assert client_as(user).post(reverse("supervision:review_start"), {"half": H1}).status_code == 403
    with pytest.raises(PermissionDenied):
        actions.review_start(actor=user, half=H1)
    assert not HalfYearReview.objects.exists()
    assert not actions.can_start_review(user)


def test_review_start_action_is_refused_the_second_time(bureau_user, provider_contract):
    assert actions.review_start(actor=bureau_user, half="2026h1") == {"created": 1, "updated": 0, "decided": 0}
    with pytest.raises(ApplicationError, match="不能重复生成"):
        actions.review_start(actor=bureau_user, half=H1)
    with pytest.raises(ApplicationError, match="尚未结束"):
        actions.review_start(actor=bureau_user, half="2099H1")


def test_no_page_tells_a_user_to_run_manage_py():
    templates = pathlib.Path(settings.BASE_DIR) / "templates"
    offenders = [str(p) for p in templates.rglob("*.html") if "manage.py" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_a_start_that_finds_reviews_made_meanwhile_is_refused(bureau_user, provider_contract, monkeypatch):
    from supervision.actions import reviews

    real = reviews.review_build

    def racing(**kwargs):
        real(**kwargs)  # another bureau user's start got there first
        return real(**kwargs)

    monkeypatch.setattr(reviews, "review_build", racing)
    with pytest.raises(ApplicationError, match="2026H1的半年评估已经生成（1份），不能重复生成。"):
        actions.review_start(actor=bureau_user, half=H1)
