"""The evaluation sheet's weights add up to 100 and the total is the sum of the items' points.

The placeholder sheet gave every item weight 1 with maxima 30/30/20/10/10 (they add up to 100): its weights become
its maxima, so an item's points are its score. A sheet no submitted evaluation has used is changed in place; one that
has been used keeps what it was scored on (its totals are frozen) and a new current version takes the weights."""

from decimal import Decimal

from django.db import migrations

HUNDRED = Decimal("100")


def weights_from_maxima(apps, schema_editor):
    Sheet = apps.get_model("supervision", "EvaluationSheet")
    Item = apps.get_model("supervision", "EvaluationItem")
    Evaluation = apps.get_model("supervision", "Evaluation")
    for sheet in Sheet.objects.order_by("version"):
        items = list(Item.objects.filter(sheet=sheet))
        if not items or sum(i.weight for i in items) == HUNDRED or sum(i.max_score for i in items) != HUNDRED:
            continue  # already right, or not the placeholder's shape: the bureau fixes it before making it current
        if not Evaluation.objects.filter(sheet=sheet, status="submitted").exists():
            for item in items:
                item.weight = item.max_score
            Item.objects.bulk_update(items, ["weight"])
            continue
        if not sheet.is_current:
            continue
        last = Sheet.objects.order_by("-version").first()
        new = Sheet.objects.create(
            name=sheet.name, version=last.version + 1, note=f"由第{sheet.version}版复制：权重合计100"
        )
        Sheet.objects.filter(pk=sheet.pk).update(is_current=False)
        Sheet.objects.filter(pk=new.pk).update(is_current=True)
        Item.objects.bulk_create(
            Item(
                sheet=new,
                code=i.code,
                title=i.title,
                max_score=i.max_score,
                weight=i.max_score,
                sort_order=i.sort_order,
            )
            for i in items
        )


class Migration(migrations.Migration):
    dependencies = [("supervision", "0008_evidence_deductions")]
    operations = [migrations.RunPython(weights_from_maxima, migrations.RunPython.noop)]
