from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "kehu.messaging"
    label = "messaging"
    verbose_name = _("Messaging")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from kehu.activities import hooks
        from kehu.messaging import triggers
        from kehu.messaging.defaults import ensure_defaults

        hooks.on_activity_logged(triggers.activity_logged)
        hooks.on_stage_changed(triggers.stage_changed)
        post_migrate.connect(ensure_defaults, sender=self, dispatch_uid="kehu-messaging-defaults")
