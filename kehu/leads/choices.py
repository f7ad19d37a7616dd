from django.db import models
from django.utils.translation import gettext_lazy as _


class RegistrationKind(models.TextChoices):
    CALL = "call", _("Call")
    VISIT = "visit", _("Visit")
    FIELD = "field", _("Field promoter")
    BROKER = "broker", _("Broker referral")
    IMPORT = "import", _("Import")
    WEB = "web", _("Web form")


class RegistrationResult(models.TextChoices):
    NEW = "new", _("New")
    EXISTING = "existing", _("Existing")
    CONFLICT = "conflict", _("Conflict")


class ConflictStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


class ConflictDecision(models.TextChoices):
    KEEP_OWNER = "keep_owner", _("Keep the owner")
    TRANSFER = "transfer", _("Give to the claimant")


class AssignmentReason(models.TextChoices):
    REGISTRATION = "registration", _("First registration")
    REATTRIBUTED = "reattributed", _("Registered again after protection expired")
    MANUAL = "manual", _("Assigned by a manager")
    ROUND_ROBIN = "round_robin", _("Round-robin by capacity")
    CONFLICT = "conflict", _("Conflict resolved")
    CLAIM = "claim", _("Claimed from the pool")
    POOL = "pool", _("Returned to the pool")
    STAFF_LEFT = "staff_left", _("Owner left")
    MERGE = "merge", _("Merged")


class PoolEventKind(models.TextChoices):
    RETURNED = "returned", _("Returned to the pool")
    CLAIMED = "claimed", _("Claimed")
