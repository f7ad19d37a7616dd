from django.urls import path
from rest_framework.routers import SimpleRouter

from kehu.grading.api import views

router = SimpleRouter()
router.register("intent-assessments", views.IntentAssessmentViewSet, basename="intent-assessment")
router.register(
    "referral-assessments", views.ReferralAssessmentViewSet, basename="referral-assessment"
)
router.register("key-customers", views.KeyCustomerViewSet, basename="key-customer")
router.register("value-grades", views.ValueGradeViewSet, basename="value-grade")

urlpatterns = [
    path("grading-settings/", views.GradingSettingsView.as_view(), name="grading-settings"),
    *router.urls,
]
