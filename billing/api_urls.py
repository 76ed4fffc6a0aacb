from rest_framework.routers import SimpleRouter

from . import api

# Nested prefixes first: "settlements/<pk>/" would otherwise swallow "settlements/lines/".
router = SimpleRouter(trailing_slash=True)
router.register("settlements/providers", api.ProviderSettlementViewSet, basename="settlement-provider")
router.register("settlements/lines", api.SettlementLineViewSet, basename="settlement-line")
router.register("settlements/payments", api.PaymentViewSet, basename="settlement-payment")
router.register("settlements", api.SettlementViewSet, basename="settlement")

urlpatterns = router.urls
