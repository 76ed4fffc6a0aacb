"""Shared pieces of the supervision API."""

from django.core.exceptions import PermissionDenied
from rest_framework import serializers

from shenxian_care.models import Role
from shenxian_care.scoping import actor_role


def bureau_only(request):
    if actor_role(request.user) != Role.BUREAU:
        raise PermissionDenied("您的角色无权执行此操作。")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)
