from decimal import Decimal

from django.db import migrations

# Placeholder items until the bureau edits the sheet in the admin (the plan names no scoring items).
ITEMS = [
    ("A1", "上门服务频次与时长达标", Decimal("30"), Decimal("1")),
    ("A2", "服务质量与服务对象满意度", Decimal("30"), Decimal("1")),
    ("A3", "照料护理人在岗与管理", Decimal("20"), Decimal("1")),
    ("A4", "服务记录与台账完整", Decimal("10"), Decimal("1")),
    ("A5", "配合监管与问题整改", Decimal("10"), Decimal("1")),
]


def create_sheet(apps, schema_editor):
    Sheet = apps.get_model("supervision", "EvaluationSheet")
    Item = apps.get_model("supervision", "EvaluationItem")
    if Sheet.objects.exists():
        return
    sheet = Sheet.objects.create(name="镇（街道）月度考评表", version=1, is_current=True, note="初始版本（默认项目）")
    for order, (code, title, max_score, weight) in enumerate(ITEMS, start=1):
        Item.objects.create(sheet=sheet, code=code, title=title, max_score=max_score, weight=weight, sort_order=order)


class Migration(migrations.Migration):
    dependencies = [("supervision", "0002_supervision_models")]
    operations = [migrations.RunPython(create_sheet, migrations.RunPython.noop)]
