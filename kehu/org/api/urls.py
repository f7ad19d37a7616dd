from django.urls import path
from rest_framework.routers import SimpleRouter

from kehu.org.api import views

router = SimpleRouter()
router.register("org-nodes", views.OrgNodeViewSet, basename="org-node")
router.register("projects", views.ProjectViewSet, basename="project")
router.register("staff", views.StaffViewSet, basename="staff")
router.register("tokens", views.ApiTokenViewSet, basename="token")

urlpatterns = [
    path("roles/", views.RoleListView.as_view(), name="role-list"),
    *router.urls,
]
