"""DOMAIN §3 default channels (拓客渠道), each protected 30 days, and the pool rules."""

from django.db import migrations

CHANNELS = [
    ("flyer", "派单", "Flyers / orders"),
    ("roadshow", "电视营 / 巡展", "TV camp / roadshow"),
    ("exhibition", "展点", "Exhibition spot"),
    ("intercept", "截流竞品", "Competitor interception"),
    ("key_account", "大客户拜访", "Key-account visit"),
    ("circle", "圈层营销", "Circle marketing"),
    ("tour", "看房团", "House-viewing tour"),
    ("broker", "编外经纪人 / 全民营销", "Freelance broker"),
    ("walk_in", "自然到访", "Walk-in"),
    ("phone", "来电", "Phone call"),
    ("online", "网络", "Online"),
    ("referral", "老带新", "Old-customer referral"),
]


def forwards(apps, schema_editor):
    Channel = apps.get_model("leads", "Channel")
    for order, (code, name, name_en) in enumerate(CHANNELS, start=1):
        Channel.objects.get_or_create(
            code=code,
            defaults={"name": name, "name_en": name_en, "protection_days": 30,
                      "sort_order": order * 10},
        )
    PoolSettings = apps.get_model("leads", "PoolSettings")
    PoolSettings.objects.get_or_create(
        pk=1, defaults={"return_days": {"A": 30, "B": 20, "C": 15, "D": 10, "": 15}}
    )


def backwards(apps, schema_editor):
    apps.get_model("leads", "Channel").objects.filter(code__in=[c[0] for c in CHANNELS]).delete()


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
