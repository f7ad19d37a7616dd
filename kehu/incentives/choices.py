"""Statuses and kinds of the incentives app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SchemeStatus(models.TextChoices):
    """A scheme version's life: drafted, submitted, then approved or rejected by a second
    administrator. Only approved versions are ever run."""

    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Pending approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class IncentiveRole(models.TextChoices):
    AREA_MANAGER = "area_manager", _("Area manager")
    REGION_MANAGER = "region_manager", _("Region manager")
