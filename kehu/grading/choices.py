from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Horizon(models.TextChoices):
    """The dealers' intent horizons for key customers: expected to decide within H 7,
    A 15, B 30, C 90 days (the days are GradingSettings)."""

    H = "H", "H"
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"


class KeyCustomerStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("key customer status", "Open")
    WON = "won", _("Won")
    DEFEATED = "defeated", _("Defeated")


class ValueGrade(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"


class ValueRule(models.TextChoices):
    """Which clause of the value-grade rule gave the grade."""

    AGENT = "agent", _("Agent")
    TOP = "top", _("Top share by annual sales")
    GROWTH = "growth", _("Sales grew in each of the last two years")
    REST = "rest", _("The rest")


class ReferralGrade(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
