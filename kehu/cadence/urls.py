from django.urls import path

from kehu.cadence import views

app_name = "cadence"
urlpatterns = [
    path("my-day/", views.my_day, name="my-day"),
    path("my-day/log/<int:pk>/", views.log_call, name="log-call"),
    path("team/", views.team, name="team"),
    path("team/<int:staff_id>/", views.person, name="person"),
    path("settings/", views.settings_page, name="settings"),
]
