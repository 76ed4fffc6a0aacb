from rest_framework.routers import DefaultRouter

from . import api

# Registered here, mounted under /api/v1/ by shenxian_care.urls (one API root for all apps).
router = DefaultRouter(trailing_slash=True)
router.register("providers", api.ProviderViewSet, basename="provider")
router.register("rates", api.RateTableViewSet, basename="rate")
router.register("contracts", api.ContractViewSet, basename="contract")
router.register("caregivers", api.CaregiverViewSet, basename="caregiver")
router.register("agreements", api.AgreementViewSet, basename="agreement")
