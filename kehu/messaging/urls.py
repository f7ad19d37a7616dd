from django.urls import path

from kehu.messaging import views

app_name = "messaging"
urlpatterns = [
    path("", views.outbox, name="outbox"),
    path("templates/", views.template_list, name="templates"),
    path("templates/new/", views.template_edit, name="template-new"),
    path("templates/preview/", views.template_preview, name="template-preview"),
    path("templates/<int:pk>/", views.template_edit, name="template-edit"),
    path("triggers/", views.triggers, name="triggers"),
    path("broadcasts/", views.broadcast_list, name="broadcasts"),
    path("broadcasts/new/", views.broadcast_new, name="broadcast-new"),
    path("broadcasts/audience/", views.broadcast_audience, name="broadcast-audience"),
    path("broadcasts/<int:pk>/", views.broadcast_detail, name="broadcast"),
]
