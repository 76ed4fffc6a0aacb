"""What waits on the desk (shenxian_care.desk) from the visits: exceptions to review."""

from django.urls import reverse

from shenxian_care.desk import DeskItem
from shenxian_care.models import Role

from .models import Visit, VisitStatus


def items(*, actor, role, today):
    if role == Role.BUREAU:
        exceptions = Visit.objects.for_actor(actor).filter(status=VisitStatus.EXCEPTION)
        return [DeskItem("服务", "待复核的异常服务记录", exceptions.count(), reverse("services:exception_queue"))]
    return []
