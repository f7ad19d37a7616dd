from django.db import models
from django.utils.translation import gettext_lazy as _


class TemplateKind(models.TextChoices):
    TRANSACTIONAL = "transactional", _("Transactional")
    PROMOTIONAL = "promotional", _("Promotional")


class MessageChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    WECHAT_WORK = "wechat_work", _("WeChat Work")
    EMAIL = "email", _("Email")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    HELD = "held", _("Held (no provider)")
    SUPPRESSED = "suppressed", _("Suppressed")


# Statuses a message never leaves by itself.
FINAL_STATUSES = (
    MessageStatus.SENT,
    MessageStatus.FAILED,
    MessageStatus.HELD,
    MessageStatus.SUPPRESSED,
)


class TriggerEvent(models.TextChoices):
    FIRST_CALL = "first_call", _("First call")
    FIRST_VISIT = "first_visit", _("First visit")
    PLEDGE = "pledge", _("Pledge")
    DEAL = "deal", _("Deal signed")


class BroadcastStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    FANNING_OUT = "fanning_out", _("Preparing messages")
    SENDING = "sending", _("Sending")
    DONE = "done", _("Done")
