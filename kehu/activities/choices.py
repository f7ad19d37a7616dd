from django.db import models
from django.utils.translation import gettext_lazy as _


class ActivityKind(models.TextChoices):
    CALL = "call", _("Call")
    VISIT = "visit", _("Visit")
    MESSAGE = "message", _("Message")
    NOTE = "note", _("Note")


class Outcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    INTERESTED = "interested", _("Interested")
    NOT_INTERESTED = "not_interested", _("Not interested")
    APPOINTMENT = "appointment", _("Appointment made")
    OTHER = "other", _("Other")


class LostReason(models.TextChoices):
    PRICE = "price", _("Price")
    COMPETITOR = "competitor", _("Bought from a competitor")
    LOCATION = "location", _("Location")
    PRODUCT = "product", _("Product does not fit")
    FINANCE = "finance", _("Cannot pay / no loan")
    NO_NEED = "no_need", _("No longer needs it")
    UNREACHABLE = "unreachable", _("Unreachable")
    OTHER = "other", _("Other")
