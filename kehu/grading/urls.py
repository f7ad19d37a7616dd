from django.urls import path

from kehu.grading import views

app_name = "grading"
urlpatterns = [
    path("key-customers/", views.board, name="board"),
    path("key-customers/submit/", views.submit, name="submit"),
    path("key-customers/<int:pk>/review/", views.review, name="review"),
    path("key-customers/<int:pk>/close/", views.close, name="close"),
    path("customers/<int:pk>/panel/", views.customer_panel, name="customer-panel"),
    path("customers/<int:pk>/assess/", views.assess, name="assess"),
    path("intent/preview/", views.intent_preview, name="intent-preview"),
    path("settings/", views.settings_page, name="settings"),
]
