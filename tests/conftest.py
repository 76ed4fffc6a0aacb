"""Named role fixtures: each role, and for town and provider a second one who must not see the first's data."""

import pytest
from rest_framework.test import APIClient

from shenxian_care.models import Role

from .factories import CaregiverFactory, ProviderFactory, UserFactory, town

PASSWORD = "Shenxian-2026-pass"


@pytest.fixture
def bureau_user(db):
    return UserFactory(username="bureau", role=Role.BUREAU, is_staff=True, is_superuser=False)


@pytest.fixture
def finance_user(db):
    return UserFactory(username="finance", role=Role.FINANCE)


@pytest.fixture
def town_user(db):
    return UserFactory(username="town-yanta", role=Role.TOWN, town=town("燕塔街道"))


@pytest.fixture
def other_town_user(db):
    return UserFactory(username="town-chaocheng", role=Role.TOWN, town=town("朝城镇"))


@pytest.fixture
def provider(db):
    return ProviderFactory(name="莘县康乐养老服务中心")


@pytest.fixture
def other_provider(db):
    return ProviderFactory(name="莘县颐和居家养老服务有限公司")


@pytest.fixture
def provider_user(provider):
    return UserFactory(username="provider-kangle", role=Role.PROVIDER, provider=provider)


@pytest.fixture
def other_provider_user(other_provider):
    return UserFactory(username="provider-yihe", role=Role.PROVIDER, provider=other_provider)


@pytest.fixture
def caregiver(provider):
    user = UserFactory(username="caregiver-li", role=Role.CAREGIVER)
    return CaregiverFactory(provider=provider, user=user, name="李秀英")


@pytest.fixture
def caregiver_user(caregiver):
    return caregiver.user


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def api_as(api_client):
    def login(user):
        api_client.force_authenticate(user=user)
        return api_client

    return login


@pytest.fixture
def client_as(client):
    def login(user):
        client.force_login(user)
        return client

    return login
