from django.db import models
from django.utils.translation import gettext_lazy as _


class NodeKind(models.TextChoices):
    COMPANY = "company", _("Company")
    REGION = "region", _("Region")
    AREA = "area", _("Area")
    BRANCH = "branch", _("Branch")
    TEAM = "team", _("Team")


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    MANAGER = "manager", _("Manager")
    COMMISSIONER = "commissioner", _("Commissioner / team lead")
    CONSULTANT = "consultant", _("Consultant")
    PROMOTER = "promoter", _("Promoter")
    BROKER = "broker", _("Broker")


class EmploymentType(models.TextChoices):
    FULL_TIME = "full_time", _("Full-time")
    PART_TIME = "part_time", _("Part-time")
    OUTSOURCED = "outsourced", _("Outsourced")
    EXTERNAL = "external", _("External (broker)")


class ProjectKind(models.TextChoices):
    HOUSING = "housing", _("Housing development")
    DEALERSHIP = "dealership", _("Dealership")
    CLUB = "club", _("Club")
    OTHER = "other", _("Other")


# Which child kinds each node kind may have: company → region → area/branch → team.
ALLOWED_CHILDREN = {
    NodeKind.COMPANY: {NodeKind.REGION},
    NodeKind.REGION: {NodeKind.AREA, NodeKind.BRANCH},
    NodeKind.AREA: {NodeKind.TEAM},
    NodeKind.BRANCH: {NodeKind.TEAM},
    NodeKind.TEAM: set(),
}
