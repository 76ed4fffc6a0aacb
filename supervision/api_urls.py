from rest_framework.routers import DefaultRouter

from . import api

# Registered here, mounted under /api/v1/ by shenxian_care.urls (one API root for all apps).
router = DefaultRouter(trailing_slash=True)
router.register("supervision/evaluations", api.EvaluationViewSet, basename="supervision-evaluation")
router.register("supervision/serious-problems", api.SeriousProblemViewSet, basename="supervision-serious-problem")
router.register("supervision/rectifications", api.RectificationViewSet, basename="supervision-rectification")
router.register("supervision/complaints", api.ComplaintViewSet, basename="supervision-complaint")
router.register("supervision/spot-checks", api.SpotCheckViewSet, basename="supervision-spot-check")
router.register("supervision/spot-check-draws", api.SpotCheckDrawViewSet, basename="supervision-spot-check-draw")
router.register("supervision/reviews", api.ReviewViewSet, basename="supervision-review")
router.register("supervision/notifications", api.NotificationViewSet, basename="supervision-notification")
router.register("supervision/cross-check-hits", api.CrossCheckHitViewSet, basename="supervision-cross-check-hit")
router.register("supervision/takeovers", api.TakeoverViewSet, basename="supervision-takeover")
