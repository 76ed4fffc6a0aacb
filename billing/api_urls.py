from rest_framework.routers import SimpleRouter

from . import api

# Nested prefixes first: "settlements/<pk>/" would otherwise swallow "settlements/lines/".
# Registered here, mounted under /api/v1/ by shenxian_care.urls (one API root for all apps).
router = SimpleRouter(trailing_slash=True)
router.register("settlements/providers", api.ProviderSettlementViewSet, basename="settlement-provider")
router.register("settlements/lines", api.SettlementLineViewSet, basename="settlement-line")
router.register("settlements/payments", api.PaymentViewSet, basename="settlement-payment")
router.register("settlements", api.SettlementViewSet, basename="settlement")
