from django.db import models
from django.utils.translation import gettext_lazy as _


class OccasionKind(models.TextChoices):
    BIRTHDAY = "birthday", _("Birthday")
    ANNIVERSARY = "anniversary", _("Anniversary")


class CareKind(models.TextChoices):
    """How much care an occasion gets, by how close the relationship is (DOMAIN §6)."""

    VISIT_GIFT = "visit_gift", _("Visit with flowers or a cake")
    CALL_CARD = "call_card", _("Call and send a card")
    MESSAGE = "message", _("Send a message")


class LifecycleKind(models.TextChoices):
    SERVICE = "service", _("Service")
    CALLBACK = "callback", _("Callback")
    INSURANCE = "insurance", _("Insurance renewal")
    INSPECTION = "inspection", _("Annual inspection")
    TRADE_IN = "trade_in", _("Trade-in")
    ACCESSORIES = "accessories", _("Accessories")
