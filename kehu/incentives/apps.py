"""Incentive schemes, monthly statements, the penalty pool and the simulator (DOMAIN §8)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncentivesConfig(AppConfig):
    name = "kehu.incentives"
    label = "incentives"
    verbose_name = _("Incentives")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from kehu.incentives.defaults import ensure_defaults

        # After every migrate or flush (see kehu.incentives.defaults for why).
        post_migrate.connect(ensure_defaults, sender=self, dispatch_uid="kehu-incentives-defaults")
