from django.urls import path

from kehu.incentives import views
from kehu.incentives.views_simulate import simulate_page

app_name = "incentives"
urlpatterns: list = [
    path("schemes/", views.schemes, name="schemes"),
    path("schemes/<int:pk>/", views.scheme_detail, name="scheme"),
    path("schemes/<int:pk>/<slug:action>/", views.scheme_action, name="scheme-action"),
    path("runs/", views.runs, name="runs"),
    path("runs/<str:month>/", views.run_detail, name="run"),
    path("runs/<str:month>/statements.xlsx", views.run_xlsx, name="run-xlsx"),
    path("statement/", views.statement, name="statement"),
    path("pool/", views.pool, name="pool"),
    path("targets/", views.targets, name="targets"),
    path("campaigns/", views.campaigns, name="campaigns"),
    path("simulate/", simulate_page, name="simulate"),
]
