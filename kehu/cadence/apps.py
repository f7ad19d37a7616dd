from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CadenceConfig(AppConfig):
    name = "kehu.cadence"
    label = "cadence"
    verbose_name = _("Cadences and agenda")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from kehu.activities import hooks
        from kehu.cadence import agenda, services
        from kehu.cadence.defaults import ensure_defaults
        from kehu.cadence.sources import agenda_source
        from kehu.customers import hooks as customer_hooks

        hooks.on_activity_logged(services.on_activity_logged)
        hooks.on_stage_changed(services.on_stage_changed)
        customer_hooks.on_customer_merged(services.on_customer_merged)
        customer_hooks.on_intent_grade_changed(services.on_intent_grade_changed)
        agenda_source(agenda.contact_items)
        # After every migrate or flush (see kehu.cadence.defaults for why).
        post_migrate.connect(ensure_defaults, sender=self, dispatch_uid="kehu-cadence-defaults")
