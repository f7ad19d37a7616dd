from django.urls import path
from rest_framework.routers import SimpleRouter

from kehu.incentives.api import views as incentive_views
from kehu.incentives.api.simulate import SimulateView

router = SimpleRouter()
router.register("incentive-schemes", incentive_views.SchemeViewSet, basename="incentive-scheme")
router.register("incentive-runs", incentive_views.MonthlyRunViewSet, basename="incentive-run")
router.register(
    "incentive-statements", incentive_views.StatementViewSet, basename="incentive-statement"
)
router.register("penalty-pool", incentive_views.PoolViewSet, basename="penalty-pool")
router.register("region-targets", incentive_views.RegionTargetViewSet, basename="region-target")
router.register(
    "incentive-profiles", incentive_views.IncentiveProfileViewSet, basename="incentive-profile"
)
router.register("field-campaigns", incentive_views.FieldCampaignViewSet, basename="field-campaign")
router.register(
    "developed-customers", incentive_views.DevelopedCustomerViewSet, basename="developed-customer"
)

urlpatterns: list = [
    path("incentives/simulate/", SimulateView.as_view(), name="incentives-simulate"),
    *router.urls,
]
