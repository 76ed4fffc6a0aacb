"""The 24 towns and sub-districts of Shen County are reference data: every database starts with them."""

from django.db import migrations

TOWNS = [
    "燕塔街道", "莘亭街道", "莘州街道", "东鲁街道", "张鲁回族镇", "朝城镇", "观城镇", "古城镇",
    "大张家镇", "古云镇", "十八里铺镇", "燕店镇", "董杜庄镇", "王奉镇", "樱桃园镇", "河店镇",
    "妹冢镇", "魏庄镇", "张寨镇", "大王寨镇", "徐庄镇", "王庄集镇", "柿子园镇", "俎店镇",
]  # fmt: skip


def load_towns(apps, schema_editor):
    Town = apps.get_model("recipients", "Town")
    for order, name in enumerate(TOWNS, start=1):
        Town.objects.update_or_create(
            name=name,
            defaults={
                "code": f"371522{order:03d}",
                "kind": "subdistrict" if name.endswith("街道") else "town",
                "sort_order": order,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("recipients", "0002_initial")]
    operations = [migrations.RunPython(load_towns, migrations.RunPython.noop)]
