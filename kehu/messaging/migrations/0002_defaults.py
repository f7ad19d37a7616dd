"""The default templates (Chinese bodies), the four triggers of DOMAIN §6 and the
"send due messages" sweep the worker runs every minute."""

import datetime

from django.db import migrations
from django.utils import timezone

JOB = "messaging-send-due"
TASK = "kehu.messaging.tasks.send_due_messages_task"

TEMPLATES = [
    (
        "first-call",
        "来电后 · 地址与路线",
        "transactional",
        "{name}{title}您好，我是{project}的置业顾问{consultant}，感谢您的来电。"
        "项目地址：{project_address}。驾车路线：{project_route}。"
        "欢迎来访，看房请联系我：{consultant_phone}。",
    ),
    (
        "first-visit",
        "来访后 · 感谢",
        "transactional",
        "{name}{title}您好，感谢您今天莅临{project}。如有任何问题，"
        "欢迎随时联系我：{consultant} {consultant_phone}。",
    ),
    (
        "pledge",
        "认筹 · 祝贺",
        "transactional",
        "恭喜{name}{title}成功认筹{project}！后续事宜我会及时与您联系。"
        "{consultant} {consultant_phone}",
    ),
    (
        "deal",
        "签约 · 祝贺",
        "transactional",
        "恭喜{name}{title}成功签约{project}，欢迎成为我们的业主！"
        "{consultant} {consultant_phone}",
    ),
    (
        "open-day",
        "开放日邀请",
        "promotional",
        "{name}{title}您好，{project}本周六举办开放日，诚邀您莅临品鉴。"
        "咨询：{consultant} {consultant_phone}。回复TD退订",
    ),
]
TRIGGERS = [("first_call", 10, "first-call"), ("first_visit", 30, "first-visit"),
            ("pledge", 0, "pledge"), ("deal", 0, "deal")]  # fmt: skip


def forwards(apps, schema_editor):
    Template = apps.get_model("messaging", "MessageTemplate")
    TriggerRule = apps.get_model("messaging", "TriggerRule")
    ScheduledJob = apps.get_model("core", "ScheduledJob")
    templates = {}
    for code, name, kind, body in TEMPLATES:
        templates[code], _ = Template.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind, "channel": "sms", "body": body}
        )
    for event, delay, code in TRIGGERS:
        TriggerRule.objects.get_or_create(
            event=event, defaults={"delay_minutes": delay, "template": templates[code]}
        )
    ScheduledJob.objects.get_or_create(
        name=JOB,
        defaults={
            "task_path": TASK,
            "interval_seconds": 60,
            "next_run_at": timezone.now() + datetime.timedelta(seconds=60),
        },
    )


def backwards(apps, schema_editor):
    apps.get_model("core", "ScheduledJob").objects.filter(name=JOB).delete()


class Migration(migrations.Migration):
    dependencies = [("messaging", "0001_initial"), ("core", "0002_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
