from django.urls import path
from rest_framework.routers import SimpleRouter

from kehu.occasions.api import views

router = SimpleRouter()
router.register("lifecycle-rules", views.LifecycleRuleViewSet, basename="lifecycle-rule")
router.register("care-rules", views.CareRuleViewSet, basename="care-rule")
router.register(
    "lifecycle-reminders", views.LifecycleReminderViewSet, basename="lifecycle-reminder"
)

urlpatterns = [
    path("calendar/", views.CalendarView.as_view(), name="calendar"),
    path("birthdays/", views.BirthdayView.as_view(), name="birthdays"),
    path(
        "invitation-settings/", views.InvitationSettingsView.as_view(), name="invitation-settings"
    ),
    *router.urls,
]
