"""Supervision API (/api/v1/supervision/...): scoped like the pages; writes go through the actions."""

from .bureau import CrossCheckHitViewSet, TakeoverViewSet
from .evaluations import EvaluationViewSet, NotificationViewSet, ReviewViewSet
from .oversight import (
    ComplaintViewSet,
    RectificationViewSet,
    SeriousProblemViewSet,
    SpotCheckDrawViewSet,
    SpotCheckViewSet,
)

__all__ = [
    "ComplaintViewSet",
    "CrossCheckHitViewSet",
    "EvaluationViewSet",
    "NotificationViewSet",
    "RectificationViewSet",
    "ReviewViewSet",
    "SeriousProblemViewSet",
    "SpotCheckDrawViewSet",
    "SpotCheckViewSet",
    "TakeoverViewSet",
]
