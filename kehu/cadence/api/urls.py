from django.urls import path
from rest_framework.routers import SimpleRouter

from kehu.cadence.api import views

router = SimpleRouter()
router.register("cadence-rules", views.CadenceRuleViewSet, basename="cadence-rule")
router.register("milestones", views.MilestoneViewSet, basename="milestone")

urlpatterns = [
    path("agenda/", views.AgendaView.as_view(), name="agenda"),
    path("agenda/team/", views.TeamAgendaView.as_view(), name="agenda-team"),
    *router.urls,
]
