from rest_framework.routers import SimpleRouter

from kehu.messaging.api import views

router = SimpleRouter()
router.register("message-templates", views.MessageTemplateViewSet, basename="message-template")
router.register("message-triggers", views.TriggerRuleViewSet, basename="message-trigger")
router.register("messages", views.MessageViewSet, basename="message")
router.register("message-consents", views.ConsentViewSet, basename="message-consent")
router.register("broadcasts", views.BroadcastViewSet, basename="broadcast")

urlpatterns = router.urls
