"""Factories for the whole suite. Valid ID numbers and credit codes are generated with real check characters."""

import datetime
import itertools
from decimal import Decimal

import factory
from django.utils import timezone

from contracts.models import (
    Agreement,
    AgreementStatus,
    Caregiver,
    DeductionRule,
    Provider,
    PurchaseContract,
)
from recipients.models import CareLevel, LevelApproval, LevelSource, Recipient, Town, Village
from shenxian_care.models import Role, User
from shenxian_care.validators import credit_check_char, id_check_char

_serial = itertools.count(1)


def make_id_number(birth=datetime.date(1950, 3, 7), sex="M", area="371522"):
    # 500 distinct sequence numbers per birth date; after that the next day, so numbers never repeat.
    serial = next(_serial)
    seq = serial % 500
    birth += datetime.timedelta(days=serial // 500)
    sex_digit = (2 * (seq % 5) + (1 if sex == "M" else 0)) % 10
    first17 = f"{area}{birth:%Y%m%d}{seq // 5:02d}{sex_digit}"
    return first17 + id_check_char(first17)


def make_credit_code():
    body = f"5237152200{next(_serial):07d}"
    return body + credit_check_char(body)


def town(name="燕塔街道"):
    return Town.objects.get(name=name)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("Shenxian-2026-pass")
    role = ""  # the least privilege: a test that needs a role asks for it (see the role fixtures)
    last_name = "王"
    first_name = "办事员"


class VillageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Village
        django_get_or_create = ("town", "name")

    town = factory.LazyFunction(lambda: town("燕塔街道"))
    name = factory.Sequence(lambda n: f"第{n}村")


class RecipientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Recipient
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"张{n}")
    id_number = factory.LazyFunction(make_id_number)
    sex = "M"
    birth_date = datetime.date(1950, 3, 7)
    village = factory.SubFactory(VillageFactory)
    town = factory.LazyAttribute(lambda o: o.village.town)
    address = factory.LazyAttribute(lambda o: f"{o.village.town.name}{o.village.name}18号")
    phone = "13800000000"
    entry_date = datetime.date(2024, 1, 1)
    home_latitude = Decimal("36.234000")
    home_longitude = Decimal("115.671000")

    @factory.post_generation
    def level(obj, create, extracted, **kwargs):
        """`RecipientFactory(level="partial")` also approves that level from the entry date (default 自理)."""
        if not create or extracted is False:
            return
        LevelApproval.objects.create(
            recipient=obj,
            level=extracted or CareLevel.SELF_CARE,
            effective_date=obj.entry_date,
            source=LevelSource.ROSTER,
            approved_by=UserFactory(username="bureau-approver", role=Role.BUREAU),
        )


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider

    name = factory.Sequence(lambda n: f"莘县第{n}养老服务中心")
    credit_code = factory.LazyFunction(make_credit_code)
    bank_name = "莘县农商银行"
    bank_account_name = factory.LazyAttribute(lambda o: o.name)
    bank_account_number = factory.Sequence(lambda n: f"6228480000{n:08d}")


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PurchaseContract
        skip_postgeneration_save = True

    number = factory.Sequence(lambda n: f"SXGM2024-{n:03d}")
    provider = factory.SubFactory(ProviderFactory)
    signed_on = datetime.date(2023, 12, 20)
    start_date = datetime.date(2024, 1, 1)
    end_date = datetime.date(2027, 12, 31)

    @factory.post_generation
    def towns(obj, create, extracted, **kwargs):
        if create:
            obj.towns.set(extracted if extracted is not None else Town.objects.all())


class DeductionRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeductionRule

    contract = factory.SubFactory(ContractFactory)
    code = factory.Sequence(lambda n: f"K{n:02d}")
    description = "未按协议提供服务，经查证属实"
    amount = Decimal("200.00")


class CaregiverFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Caregiver

    provider = factory.SubFactory(ProviderFactory)
    name = factory.Sequence(lambda n: f"李护理{n}")
    id_number = factory.LazyFunction(lambda: make_id_number(datetime.date(1975, 5, 5), "F"))
    phone = "13900000000"
    hired_on = datetime.date(2024, 1, 1)
    bank_name = "莘县农商银行"
    bank_account_number = factory.Sequence(lambda n: f"6217000000{n:08d}")


class AgreementFactory(factory.django.DjangoModelFactory):
    """A signed agreement. Pass `provider` (a contract covering every town is made if it has none)."""

    class Meta:
        model = Agreement

    number = factory.Sequence(lambda n: f"SXXY-T{n:06d}")
    recipient = factory.SubFactory(RecipientFactory)
    provider = factory.SubFactory(ProviderFactory)
    contract = factory.LazyAttribute(lambda o: o.provider.contracts.first() or ContractFactory(provider=o.provider))
    caregiver = factory.LazyAttribute(lambda o: CaregiverFactory(provider=o.provider))
    town = factory.LazyAttribute(lambda o: o.recipient.town)
    village = factory.LazyAttribute(lambda o: o.recipient.village)
    signatory_name = factory.LazyAttribute(lambda o: o.recipient.name)
    level_at_signing = CareLevel.SELF_CARE
    start_date = factory.LazyAttribute(lambda o: o.recipient.entry_date)
    end_date = None
    status = AgreementStatus.SIGNED
    signed_on = factory.LazyAttribute(lambda o: o.start_date)
    village_signatory = "村委会主任"
    village_signed_on = factory.LazyAttribute(lambda o: o.signed_on)
    recipient_signed_on = factory.LazyAttribute(lambda o: o.signed_on)
    provider_signed_by = factory.LazyFunction(lambda: UserFactory(username="provider-signer", role=Role.BUREAU))
    provider_signed_at = factory.LazyFunction(timezone.now)
