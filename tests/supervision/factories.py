"""Factories and small helpers for the supervision tests."""

import io

from PIL import Image

from tests.factories import AgreementFactory, ContractFactory, DeductionRuleFactory, RecipientFactory, town


def serve(provider, town_name="燕塔街道", n=1, level="self_care", **recipient_kwargs):
    """`n` recipients of `town_name`, each with a signed agreement with `provider` (from 2024-01-01)."""
    from tests.factories import VillageFactory

    village = VillageFactory(town=town(town_name), name=f"{town_name}测试村")
    agreements = []
    for _ in range(n):
        recipient = RecipientFactory(village=village, level=level, **recipient_kwargs)
        agreements.append(AgreementFactory(provider=provider, recipient=recipient, level_at_signing=level))
    return agreements


def contract_with_rule(provider, amount="200.00", towns=None):
    contract = ContractFactory(provider=provider, towns=towns)
    rule = DeductionRuleFactory(contract=contract, amount=amount)
    return contract, rule


def png_upload(name="evidence.png", size=(40, 30)):
    from django.core.files.uploadedfile import SimpleUploadedFile

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")
