from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CustomerKind(models.TextChoices):
    PERSON = "person", _("Person")
    ORGANISATION = "organisation", pgettext_lazy("customer kind", "Organisation")


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")
    UNKNOWN = "unknown", _("Unknown")


class Stage(models.TextChoices):
    """The funnel, in order; LOST can end any stage."""

    LEAD = "lead", _("Lead")
    LEFT_PHONE = "left_phone", _("Left phone number")
    VISITED = "visited", _("Visited")
    PLEDGED = "pledged", _("Pledged")
    DEAL = "deal", _("Deal")
    OWNER = "owner", pgettext_lazy("customer stage", "Owner")
    LOST = "lost", _("Lost")


FUNNEL_ORDER = [
    Stage.LEAD,
    Stage.LEFT_PHONE,
    Stage.VISITED,
    Stage.PLEDGED,
    Stage.DEAL,
    Stage.OWNER,
]


class RelationshipCategory(models.TextChoices):
    """From the WeChat practice: N never contacted, Y contacted without a deal, M bought
    short-term products, O bought long-term products, VIP."""

    N = "N", _("N · never contacted")
    Y = "Y", _("Y · contacted, no deal")
    M = "M", _("M · bought short-term products")
    O = "O", _("O · bought long-term products")  # noqa: E741 - the practice's own letter
    VIP = "VIP", _("VIP")


class RelationKind(models.TextChoices):
    REFERRED_BY = "referred_by", _("Referred by")
    FAMILY = "family", _("Family")
    COLLEAGUE = "colleague", _("Colleague")


class CompletenessStage(models.TextChoices):
    """The stages at which the required profile grows (DOMAIN §2)."""

    FIRST_CALL = "first_call", _("First call")
    FIRST_VISIT = "first_visit", _("First visit")
    REPEAT_VISITS = "repeat_visits", _("Three or more visits")
    OWNER = "owner", pgettext_lazy("customer stage", "Owner")


class IntentGrade(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"
