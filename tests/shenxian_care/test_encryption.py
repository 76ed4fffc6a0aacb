"""ID numbers and bank accounts are encrypted at rest, while ID numbers stay unique and searchable."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError
from django.db import IntegrityError, connection, transaction

from contracts.models import Caregiver, Provider
from recipients.models import Recipient
from shenxian_care import crypto
from tests.factories import CaregiverFactory, ProviderFactory, RecipientFactory

GOOD = "11010519491231002X"


def raw(table, column, pk):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 - fixed names
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_the_database_holds_ciphertext_and_the_model_reads_the_number():
    recipient = RecipientFactory(id_number=GOOD, guardian_name="监护人", guardian_id_number="110105194912310029")
    stored = raw("recipients_recipient", "id_number", recipient.pk)
    assert GOOD not in stored and stored.startswith("gAAAAA")
    assert "110105194912310029" not in raw("recipients_recipient", "guardian_id_number", recipient.pk)
    assert raw("recipients_recipient", "id_number_masked", recipient.pk) == "1101**********002X"
    again = Recipient.objects.get(pk=recipient.pk)
    assert again.id_number == GOOD and again.guardian_id_number == "110105194912310029"


@pytest.mark.django_db
def test_bank_accounts_are_encrypted():
    provider = ProviderFactory(bank_account_number="6228480012345678")
    caregiver = CaregiverFactory(bank_account_number="6217000087654321")
    assert "6228480012345678" not in raw("contracts_provider", "bank_account_number", provider.pk)
    assert "6217000087654321" not in raw("contracts_caregiver", "bank_account_number", caregiver.pk)
    assert Provider.objects.get(pk=provider.pk).bank_account_number == "6228480012345678"
    assert Caregiver.objects.get(pk=caregiver.pk).bank_account_number == "6217000087654321"


@pytest.mark.django_db
def test_id_number_stays_searchable_and_unique():
    recipient = RecipientFactory(id_number=GOOD)
    assert Recipient.objects.with_id_number(GOOD.lower()).get() == recipient
    assert Recipient.objects.with_id_number("110105491231002").get() == recipient  # the 15-digit form
    assert list(Recipient.objects.with_id_numbers([GOOD, "371522195003070011"])) == [recipient]
    with pytest.raises(IntegrityError), transaction.atomic():
        RecipientFactory(id_number=GOOD)


@pytest.mark.django_db
def test_filtering_on_the_ciphertext_is_refused_loudly():
    # It could never match (the ciphertext differs each time): refusing it stops a silent empty answer.
    with pytest.raises(FieldError, match="摘要"):
        list(Recipient.objects.filter(id_number=GOOD))


@pytest.mark.django_db
def test_a_key_can_be_rotated(settings):
    recipient = RecipientFactory(id_number=GOOD)
    old_keys = list(settings.FIELD_ENCRYPTION_KEYS)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *old_keys]
    crypto.reset_keys()
    try:
        assert Recipient.objects.get(pk=recipient.pk).id_number == GOOD  # old rows still read
        recipient.save()
        settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS[:1]  # only the new key left
        crypto.reset_keys()
        assert Recipient.objects.get(pk=recipient.pk).id_number == GOOD  # re-encrypted with the new key
    finally:
        settings.FIELD_ENCRYPTION_KEYS = old_keys
        crypto.reset_keys()


@pytest.mark.django_db
def test_payment_accounts_are_encrypted(settle_month_with_payments):
    from billing.models import Payment

    payment = next(p for p in Payment.objects.all() if p.account_number)
    stored = raw("billing_payment", "account_number", payment.pk)
    assert stored.startswith("gAAAAA") and payment.account_number not in stored


@pytest.fixture
def settle_month_with_payments(bureau_user):
    import datetime

    from billing.actions import settlement_compute
    from tests.factories import AgreementFactory

    AgreementFactory(recipient=RecipientFactory(level="full"))
    return settlement_compute(actor=bureau_user, month=datetime.date(2026, 10, 1))
