from django.urls import path
from rest_framework.routers import SimpleRouter

from kehu.customers.api import views

router = SimpleRouter()
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("tags", views.TagViewSet, basename="tag")

urlpatterns = [
    path(
        "completeness-requirements/",
        views.CompletenessRequirementView.as_view(),
        name="completeness-requirements",
    ),
    *router.urls,
]
