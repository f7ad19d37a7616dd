from django.urls import path

from kehu.occasions import views

app_name = "occasions"
urlpatterns = [
    path("", views.birthday_calendar, name="birthdays"),
    path("calendar/", views.year_calendar, name="calendar"),
    path("lifecycle/", views.lifecycle_settings, name="lifecycle"),
    path("lifecycle/add/", views.lifecycle_add, name="lifecycle-add"),
    path("lifecycle/<int:pk>/", views.lifecycle_edit, name="lifecycle-edit"),
    path("care/", views.care_settings, name="care"),
]
