"""The admin's record pages show ID and bank numbers masked, as every other page does; a record can still be
edited: the masked number sent back unchanged keeps the stored one, a new number replaces it."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from contracts.models import Caregiver, Provider
from recipients.models import CivilCapacity, Recipient
from shenxian_care.privacy import mask_bank_account, mask_id_number
from tests.factories import CaregiverFactory, ProviderFactory, RecipientFactory, make_id_number

pytestmark = pytest.mark.django_db


class _FormValues(HTMLParser):
    """What a browser sends when the admin's change form is submitted untouched."""

    def __init__(self):
        super().__init__()
        self.data, self._select, self._textarea = {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.data[name] = attrs.get("value") or ("on" if attrs.get("type") == "checkbox" else "")
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data.lstrip("\n")


def form_values(page):
    parser = _FormValues()
    parser.feed(page)
    parser.data.pop("csrfmiddlewaretoken", None)
    return parser.data


def test_recipient_page_shows_both_id_numbers_masked_and_an_untouched_save_keeps_them(client_as, bureau_user):
    # given a recipient with a guardian
    guardian_id = make_id_number()
    recipient = RecipientFactory(
        civil_capacity=CivilCapacity.NONE, guardian_name="王监护", guardian_id_number=guardian_id
    )
    url = reverse("admin:recipients_recipient_change", args=[recipient.pk])
    client = client_as(bureau_user)

    # when the bureau opens its page
    page = client.get(url).content.decode()

    # then neither number is there in full; both are there masked
    assert recipient.id_number not in page and guardian_id not in page
    assert mask_id_number(recipient.id_number) in page and mask_id_number(guardian_id) in page

    # and saving the page as it is (the masked guardian's number sent back) keeps the stored numbers
    data = form_values(page)
    assert data["guardian_id_number"] == mask_id_number(guardian_id)
    data["phone"] = "13911112222"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    recipient.refresh_from_db()
    assert recipient.phone == "13911112222"
    assert recipient.guardian_id_number == guardian_id


def test_a_new_number_typed_over_the_masked_one_replaces_it(client_as, bureau_user):
    recipient = RecipientFactory(
        civil_capacity=CivilCapacity.NONE, guardian_name="王监护", guardian_id_number=make_id_number()
    )
    url = reverse("admin:recipients_recipient_change", args=[recipient.pk])
    client = client_as(bureau_user)
    data = form_values(client.get(url).content.decode())

    new_id = make_id_number()
    data["guardian_id_number"] = new_id
    assert client.post(url, data).status_code == 302

    assert Recipient.objects.get(pk=recipient.pk).guardian_id_number == new_id


def test_caregiver_page_masks_id_and_bank_numbers_and_keeps_or_replaces_them(client_as, bureau_user):
    caregiver = CaregiverFactory()
    stored_id, stored_account = caregiver.id_number, caregiver.bank_account_number
    url = reverse("admin:contracts_caregiver_change", args=[caregiver.pk])
    client = client_as(bureau_user)

    page = client.get(url).content.decode()
    assert stored_id not in page and stored_account not in page
    assert mask_id_number(stored_id) in page and mask_bank_account(stored_account) in page

    # saved untouched: nothing changes
    data = form_values(page)
    assert client.post(url, data).status_code == 302
    caregiver = Caregiver.objects.get(pk=caregiver.pk)
    assert (caregiver.id_number, caregiver.bank_account_number) == (stored_id, stored_account)

    # a new account typed in: replaced, the ID number kept
    data["bank_account_number"] = "6217009999888877776"
    assert client.post(url, data).status_code == 302
    caregiver = Caregiver.objects.get(pk=caregiver.pk)
    assert (caregiver.id_number, caregiver.bank_account_number) == (stored_id, "6217009999888877776")


def test_provider_page_masks_the_bank_account(client_as, bureau_user):
    provider = ProviderFactory()
    url = reverse("admin:contracts_provider_change", args=[provider.pk])
    client = client_as(bureau_user)

    page = client.get(url).content.decode()
    assert provider.bank_account_number not in page
    assert mask_bank_account(provider.bank_account_number) in page

    data = form_values(page)
    data["contact_name"] = "新联系人"
    assert client.post(url, data).status_code == 302
    saved = Provider.objects.get(pk=provider.pk)
    assert saved.contact_name == "新联系人" and saved.bank_account_number == provider.bank_account_number


def test_a_new_record_form_takes_numbers_as_typed(client_as, bureau_user):
    page = client_as(bureau_user).get(reverse("admin:contracts_caregiver_add")).content.decode()
    assert 'name="id_number"' in page and 'name="bank_account_number"' in page


def test_the_full_number_only_through_the_audited_reveal_with_a_reason(client_as, bureau_user):
    from auditlog.models import LogEntry

    caregiver = CaregiverFactory()
    client = client_as(bureau_user)
    page = client.get(reverse("admin:contracts_caregiver_change", args=[caregiver.pk])).content.decode()
    reveal = reverse("admin:contracts_caregiver_reveal", args=[caregiver.pk, "id_number"])
    assert reveal in page

    # asking shows the masked number and a form for the reason; no reason, no number
    assert caregiver.id_number not in client.get(reveal).content.decode()
    assert caregiver.id_number not in client.post(reveal, {"reason": "  "}).content.decode()
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()

    # with a reason: shown, not cached, and recorded (who, which number, why)
    response = client.post(reveal, {"reason": "核对工资发放信息"})
    assert caregiver.id_number in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS)
    assert entry.actor == bureau_user and entry.object_pk == str(caregiver.pk)
    assert entry.additional_data == {"field": "id_number", "reason": "核对工资发放信息"}


def test_the_reveal_is_for_bureau_staff_and_encrypted_fields_only(client_as, bureau_user, town_user):
    caregiver = CaregiverFactory()
    reveal = reverse("admin:contracts_caregiver_reveal", args=[caregiver.pk, "id_number"])

    response = client_as(town_user).post(reveal, {"reason": "想看看"})
    assert response.status_code in (302, 403) and caregiver.id_number not in response.content.decode()
    bureau = client_as(bureau_user)
    assert bureau.get(reverse("admin:contracts_caregiver_reveal", args=[caregiver.pk, "name"])).status_code == 404
    assert bureau.get(reverse("admin:contracts_caregiver_reveal", args=[987654, "id_number"])).status_code == 404
