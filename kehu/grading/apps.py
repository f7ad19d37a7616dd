from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GradingConfig(AppConfig):
    name = "kehu.grading"
    label = "grading"
    verbose_name = _("Grading")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from kehu.activities.hooks import on_stage_changed
        from kehu.cadence.sources import agenda_source
        from kehu.grading.agenda import key_customer_reviews
        from kehu.grading.defaults import ensure_defaults
        from kehu.grading.services import close_on_stage_change

        # After every migrate or flush (see kehu.grading.defaults for why).
        post_migrate.connect(ensure_defaults, sender=self, dispatch_uid="kehu-grading-defaults")
        on_stage_changed(close_on_stage_change)
        agenda_source(key_customer_reviews)
