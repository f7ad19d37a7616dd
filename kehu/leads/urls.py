from django.urls import path

from kehu.leads import views

app_name = "leads"
urlpatterns = [
    path("register/", views.register, name="register"),
    path("check/", views.check, name="check"),
    path("field/", views.field, name="field"),
    path("broker/", views.broker, name="broker"),
    path("conflicts/", views.conflicts, name="conflicts"),
    path("conflicts/<int:pk>/resolve/", views.resolve, name="resolve"),
    path("pool/", views.pool_list, name="pool"),
    path("pool/<int:pk>/claim/", views.claim, name="claim"),
]
