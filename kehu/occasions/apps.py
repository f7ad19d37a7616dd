from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OccasionsConfig(AppConfig):
    name = "kehu.occasions"
    label = "occasions"
    verbose_name = _("Occasions and calendars")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from kehu.cadence.sources import agenda_source
        from kehu.customers.hooks import on_occasions_changed, on_purchase_recorded
        from kehu.occasions import hooks, sources
        from kehu.occasions.defaults import ensure_defaults

        for source in sources.ALL:
            agenda_source(source)
        on_occasions_changed(hooks.occasions_changed)
        on_purchase_recorded(hooks.purchase_recorded)
        # After every migrate or flush (see kehu.occasions.defaults for why).
        post_migrate.connect(ensure_defaults, sender=self, dispatch_uid="kehu-occasions-defaults")
