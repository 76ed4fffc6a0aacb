from rest_framework.routers import DefaultRouter

from .api import VisitViewSet

# Registered here, mounted under /api/v1/ by shenxian_care.urls (one API root for all apps).
router = DefaultRouter(trailing_slash=True)
router.register("visits", VisitViewSet, basename="visit")
