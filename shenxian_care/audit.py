"""Recording views of sensitive personal information (a full ID number shown is an audited event)."""

from auditlog.context import set_actor
from auditlog.signals import accessed


def record_full_view(*, actor, instance, remote_addr=None):
    with set_actor(actor, remote_addr=remote_addr):
        accessed.send(sender=type(instance), instance=instance)
