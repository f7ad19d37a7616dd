from django.urls import path
from rest_framework.routers import SimpleRouter

from kehu.leads.api import views

router = SimpleRouter()
router.register("registrations", views.RegistrationViewSet, basename="registration")
router.register("channels", views.ChannelViewSet, basename="channel")
router.register("conflicts", views.ConflictViewSet, basename="conflict")
router.register("assignments", views.AssignmentViewSet, basename="assignment")
router.register("pool", views.PoolViewSet, basename="pool")

urlpatterns = [
    path("pool-settings/", views.PoolSettingsView.as_view(), name="pool-settings"),
    *router.urls,
]
