from rest_framework.routers import DefaultRouter

from . import api

# Registered here, mounted under /api/v1/ by shenxian_care.urls (one API root for all apps).
router = DefaultRouter(trailing_slash=True)
router.register("towns", api.TownViewSet, basename="town")
router.register("villages", api.VillageViewSet, basename="village")
router.register("recipients", api.RecipientViewSet, basename="recipient")
router.register("assessments", api.AssessmentViewSet, basename="assessment")
