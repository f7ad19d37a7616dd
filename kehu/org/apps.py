from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "kehu.org"
    label = "org"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        # Register the org app's own ownership handler (managed nodes) with the
        # reassignment registry, so a person who leaves hands their nodes on.
        from kehu.org import ownership  # noqa: F401
