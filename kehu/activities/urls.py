from django.urls import path

from kehu.activities import views

app_name = "activities"
urlpatterns = [
    path("customers/<int:pk>/log/", views.log, name="log"),
    path("customers/<int:pk>/stage/", views.stage, name="stage"),
]
