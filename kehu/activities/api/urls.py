from rest_framework.routers import SimpleRouter

from kehu.activities.api import views

router = SimpleRouter()
router.register("activities", views.ActivityViewSet, basename="activity")

urlpatterns = router.urls
