"""Billing's own factories: verified deductions (supervision's model, made here only as test data)."""

import datetime
from decimal import Decimal

import factory

from shenxian_care.models import Role
from supervision.models import Deduction, DeductionSource, DeductionStatus
from tests.factories import ContractFactory, UserFactory


class DeductionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deduction

    provider = factory.LazyAttribute(lambda o: o.contract.provider)
    contract = factory.SubFactory(ContractFactory)
    source = DeductionSource.SERIOUS_PROBLEM
    amount = Decimal("100.00")
    reason = "未按协议上门服务，经查证属实"
    verified_on = datetime.date(2024, 3, 10)
    status = DeductionStatus.VERIFIED
    created_by = factory.LazyFunction(lambda: UserFactory(username="bureau-deducter", role=Role.BUREAU))
