from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "kehu.leads"
    label = "leads"
    verbose_name = _("Leads")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from kehu.leads.defaults import ensure_defaults

        # After every migrate or flush (see kehu.leads.defaults for why).
        post_migrate.connect(ensure_defaults, sender=self, dispatch_uid="kehu-leads-defaults")
