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


def make_visit(agreement, day, *, minutes=60, status="verified", reasons=None):
    """A finished visit on `day` (09:00 Beijing time) under `agreement`."""
    import datetime
    import zoneinfo

    from services.models import Visit
    from tests.factories import UserFactory

    start = datetime.datetime.combine(day, datetime.time(9, 0), tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
    end = start + datetime.timedelta(minutes=minutes)
    return Visit.objects.create(
        provider=agreement.provider,
        caregiver=agreement.caregiver,
        recipient=agreement.recipient,
        agreement=agreement,
        town=agreement.town,
        visit_date=day,
        started_at=start,
        ended_at=end,
        duration_minutes=minutes,
        service_items=["daily_cleaning"],
        status=status,
        exception_reasons=reasons or ([] if status == "verified" else ["too_short"]),
        received_at=end,
        created_by=UserFactory(username="visit-logger"),
    )


def xlsx(rows, header=("姓名", "身份证号", "情形", "日期")):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
