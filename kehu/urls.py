from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from kehu.core import views as core_views
from kehu.core.api.views import api_not_found

api_v1 = [
    # Registrations first: the hottest write resolves without trying the other routes.
    path("", include("kehu.leads.api.urls")),
    path("", include("kehu.org.api.urls")),
    path("", include("kehu.core.api.urls")),
    path("", include("kehu.customers.api.urls")),
    path("", include("kehu.activities.api.urls")),
    path("", include("kehu.grading.api.urls")),
    path("", include("kehu.occasions.api.urls")),
    path("", include("kehu.cadence.api.urls")),
    path("", include("kehu.messaging.api.urls")),
    path("", include("kehu.incentives.api.urls")),
]

urlpatterns = [
    # The API first: every API request (registrations are the hottest) resolves sooner.
    path("api/v1/", include(api_v1)),
    path("", include("kehu.core.urls")),
    path("org/", include("kehu.org.urls")),
    path("customers/", include("kehu.customers.urls")),
    path("leads/", include("kehu.leads.urls")),
    path("activities/", include("kehu.activities.urls")),
    path("grading/", include("kehu.grading.urls")),
    path("occasions/", include("kehu.occasions.urls")),
    path("cadence/", include("kehu.cadence.urls")),
    path("messaging/", include("kehu.messaging.urls")),
    path("incentives/", include("kehu.incentives.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    re_path(r"^api/", api_not_found),
]

if settings.KEHU_BENCH:
    from bench.views import bare_register

    urlpatterns.insert(0, path("bench/bare-register/", bare_register))

if settings.DEBUG:
    from django.contrib import admin

    urlpatterns.append(path("django-admin/", admin.site.urls))


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    return core_views.not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    return core_views.server_error(request)
