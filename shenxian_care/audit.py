"""The audit trail: who did what, from where. Object changes are recorded by django-auditlog (registered
per model in each app's AppConfig.ready); sign-ins, exports and full views of sensitive data here."""

import contextlib
import datetime
import decimal
import ipaddress
import json
import uuid

from auditlog.cid import get_cid
from auditlog.context import auditlog_disabled, disable_auditlog, set_actor
from auditlog.diff import get_field_value, get_mask_function, is_primitive, track_field
from auditlog.middleware import AuditlogMiddleware as BaseAuditlogMiddleware
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from auditlog.signals import accessed
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.db import router
from django.db.models import NOT_PROVIDED, DateTimeField, JSONField
from django.db.models.manager import BaseManager
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone as django_timezone
from django.utils.encoding import smart_str

from .copy import copy_instances
from .models import SecurityEvent, SecurityEventKind, UserSession
from .privacy import SENSITIVE_FIELDS, mask_sign_in_name


def register(*models, exclude_fields=()):
    """Record every create, change and delete of these models, sensitive fields masked in the record.

    `exclude_fields`: bulky or binary fields (an uploaded file, progress counters) not worth a diff.
    """
    for model in models:
        names = {f.name for f in model._meta.get_fields()}
        auditlog.register(
            model,
            mask_fields=[f for f in SENSITIVE_FIELDS if f in names],
            exclude_fields=[f for f in exclude_fields if f in names],
        )


def mark_new(instance):
    """Say of a row about to be inserted (or just inserted) that nothing points at it one-to-one yet, which is true of
    a new row: its audit record, which lists every relation, then reads none of them (one query each otherwise)."""
    for relation in instance._meta.related_objects:
        if relation.one_to_one:
            relation.set_cached_value(instance, None)


# values that smart_str turns into their str() (neither text nor lazy)
_AS_STR = frozenset({type(None), bool, int, float, decimal.Decimal, uuid.UUID, datetime.date, datetime.datetime})


class _CreatePlan:
    """django-auditlog's `model_instance_diff(None, instance)` for new rows of one model, with what does not depend on
    the row worked out once: the fields it compares (in its order, filtered and masked as registered), the "old"
    value of each (a new row has none: auditlog's default, the same for every row) and how each field's new value is
    read, so that a row's changes are one pass of small readers. Each reader reads the value as auditlog's
    `get_field_value` reads it, branch for branch (the branch chosen once per field), except that a reverse foreign
    key's value, a related manager, whose text (Django's `BaseManager.__str__`: the related model's label) is the same
    for every row, is read once.
    `tests/shenxian_care/test_audit_created_changes.py` and `tests/services/test_api.py` hold the two equal (a
    django-auditlog upgrade must keep them green)."""

    def __init__(self, model, use_json, use_tz):
        self.use_json, self.use_tz = use_json, use_tz
        # the same set, and so the same order, model_instance_diff iterates
        fields = {f for f in model._meta.get_fields() if track_field(f)}
        registered = auditlog.get_model_fields(model)
        if registered["include_fields"] or registered["exclude_fields"]:
            if registered["include_fields"]:
                fields = [f for f in fields if f.name in registered["include_fields"]]
            if registered["exclude_fields"]:
                fields = [f for f in fields if f.name not in registered["exclude_fields"]]
        mask = get_mask_function(registered.get("mask_callable"))
        fk_as_id = not settings.AUDITLOG_USE_FK_STRING_REPRESENTATION
        self.steps = []
        for field in fields:
            # get_field_value's branches, chosen once
            if isinstance(field, DateTimeField):
                read = self._datetime_reader(field)
            elif isinstance(field, JSONField):
                read = self._json_reader(field)
            elif fk_as_id and (field.one_to_one or field.many_to_one) and hasattr(field, "rel_class"):
                read = self._fk_reader(field)
            elif field.one_to_many and not field.concrete:
                read = self._manager_reader(field)
            else:
                read = self._plain_reader(field)
            masked = mask if field.name in registered["mask_fields"] else None
            old = get_field_value(None, field, use_json)
            self.steps.append((field.name, read, old, self._out(old), masked))

    def _out(self, value):
        # how a value is written into the diff (unmasked)
        if not self.use_json:
            return smart_str(value)
        return value if is_primitive(value) else smart_str(value)

    def _default(self, field):
        # get_field_value's fallback (a relation not there): the field's default
        default = getattr(field, "default", NOT_PROVIDED)
        if default is NOT_PROVIDED:
            default = None
        elif callable(default):
            default = default()
        return default if self.use_json else smart_str(default)

    def _manager_reader(self, field):
        # a reverse foreign key: its value is a new related manager per row, whose text names the related model only
        # (BaseManager.__str__), so it is read for the first row and taken as read for the others (the diff writes a
        # manager as its text in either form); any other value is read each time
        name, read_each = field.name, self._plain_reader(field)
        known = []

        def read(instance):
            if known:
                return known[0]
            value = read_each(instance)
            try:
                manager = getattr(instance, name)
            except (ObjectDoesNotExist, AttributeError):
                return value
            if isinstance(manager, BaseManager) and type(manager).__str__ is BaseManager.__str__:
                known.append(smart_str(manager))
            return value

        return read

    def _datetime_reader(self, field):
        name, default, use_tz = field.name, self._default, self.use_tz

        def read(instance):
            try:
                value = getattr(instance, name)
            except (ObjectDoesNotExist, AttributeError):
                return default(field)
            if type(value) is not datetime.datetime:  # DateTimeField.to_python returns a datetime as it is
                try:
                    value = field.to_python(value)
                except TypeError:
                    return value
            if value is not None and use_tz and value.utcoffset() is not None:
                value = django_timezone.make_naive(value, timezone=datetime.UTC)
            return value

        return read

    def _json_reader(self, field):
        name, default, use_json = field.name, self._default, self.use_json

        def read(instance):
            try:
                value = field.to_python(getattr(instance, name))
            except (ObjectDoesNotExist, AttributeError):
                return default(field)
            if not use_json:
                with contextlib.suppress(TypeError):
                    value = json.dumps(value, sort_keys=True, cls=field.encoder)
            return value

        return read

    def _fk_reader(self, field):
        attname, default = field.get_attname(), self._default

        def read(instance):
            try:
                value = getattr(instance, attname)
            except (ObjectDoesNotExist, AttributeError):
                return default(field)
            if value is None or type(value) is int:  # what smart_str(strings_only=True) returns as it is
                return value
            return smart_str(value, strings_only=True)

        return read

    def _plain_reader(self, field):
        name, default, use_json = field.name, self._default, self.use_json

        def read(instance):
            try:
                value = getattr(instance, name)
            except (ObjectDoesNotExist, AttributeError):
                return default(field)
            if use_json or isinstance(value, str):  # smart_str returns a str as it is
                return value
            if type(value) in _AS_STR:
                return str(value)
            value = smart_str(value)
            if type(value).__name__ == "__proxy__":
                value = str(value)
            return value

        return read

    def changes(self, instance):
        diff = {}
        use_json = self.use_json
        for name, read, old, old_out, masked in self.steps:
            new = read(instance)
            if old == new:
                continue
            if masked is not None:
                diff[name] = (masked(smart_str(old)), masked(smart_str(new)))
            elif isinstance(new, str):  # written as it is in either form
                diff[name] = (old_out, new)
            elif use_json:
                diff[name] = (old_out, new if is_primitive(new) else smart_str(new))
            else:
                diff[name] = (old_out, str(new) if type(new) in _AS_STR else smart_str(new))
        return diff or None


_plans = {}


def created_changes(instance):
    """The `changes` of django-auditlog's "create" record for `instance` (a new row of a registered model): exactly
    what `model_instance_diff(None, instance)` gives, without working out again per row what is the same for every
    row of the model."""
    use_json, use_tz = settings.AUDITLOG_STORE_JSON_CHANGES, settings.USE_TZ
    key = (type(instance), use_json, use_tz)
    plan = _plans.get(key)
    if plan is None:
        plan = _plans[key] = _CreatePlan(type(instance), use_json, use_tz)
    return plan.changes(instance)


def log_created_in_bulk(instances, *, ids=None):
    """django-auditlog's "create" record for each of `instances` (saved, of one registered model), written in one
    statement: the same record its post_save receiver writes one at a time (same changes and masking, actor,
    address, correlation id). For batches (a phone's queue); `tests/services/test_api.py` holds the two paths equal.
    `ids`: the records' keys, allocated by the caller (`shenxian_care.copy.allocate_ids`) on PostgreSQL: the records
    then go in by COPY; otherwise one INSERT."""
    if not instances or auditlog_disabled.get():
        return []
    model = type(instances[0])
    content_type = ContentType.objects.get_for_model(model)
    db = router.db_for_write(LogEntry)
    cid = get_cid()
    entries = []
    for instance in instances:
        mark_new(instance)
        entry = LogEntry(
            content_type=content_type,
            object_pk=instance.pk,
            object_id=instance.pk if isinstance(instance.pk, int) else None,
            object_repr=smart_str(instance),
            serialized_data=LogEntry.objects._get_serialized_data_or_none(instance),
            action=LogEntry.Action.CREATE,
            changes=created_changes(instance),
            cid=cid,
        )
        # the signals a save() sends: auditlog fills in the actor and address of the request (set_actor) here,
        # and only while that context is open
        pre_save.send(sender=LogEntry, instance=entry, raw=False, using=db, update_fields=None)
        entries.append(entry)
    if ids is not None:
        copy_instances(entries, ids)
    else:
        LogEntry.objects.bulk_create(entries)
    for entry in entries:
        post_save.send(sender=LogEntry, instance=entry, created=True, update_fields=None, raw=False, using=db)
    return entries


def client_address(request):
    """The address a request came from: the one address used for the audit trail, the sign-in lockout and the
    throttles alike.

    Behind the county's reverse proxy every request comes from the proxy (REMOTE_ADDR); the proxy names the client
    in one header, CLIENT_IP_HEADER (X-Real-IP with deploy/nginx.conf), believed only when the request came from
    one of TRUSTED_PROXIES (a client can send any header it likes). If the header is X-Forwarded-For, the last
    address is the one the proxy appended and vouches for; anything that is not an address falls back to
    REMOTE_ADDR. The early middleware (TrustedProxyClientAddressMiddleware) writes the result into REMOTE_ADDR, so
    libraries that read it directly see the same client."""
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR")
    header = settings.CLIENT_IP_HEADER
    if not header or remote not in settings.TRUSTED_PROXIES:
        return remote
    named = [part.strip() for part in (request.headers.get(header) or "").split(",") if part.strip()]
    if not named:
        return remote
    try:
        return str(ipaddress.ip_address(named[-1]))
    except ValueError:
        return remote


class AuditlogMiddleware(BaseAuditlogMiddleware):
    """django-auditlog's middleware, recording `client_address` (its own believes any X-Forwarded-For sent)."""

    @staticmethod
    def _get_remote_addr(request):
        return None if settings.AUDITLOG_DISABLE_REMOTE_ADDR else client_address(request)

    @staticmethod
    def _get_remote_port(request):
        return None


def sign_in_username(request, credentials=None):
    """The user name of a sign-in as django-axes counts and keeps it (AXES_USERNAME_CALLABLE): as typed, except an ID
    number, which is kept masked. Locking the masked form still locks that person (and, at worst, the rare other
    number sharing its first and last four characters, for the same 30 minutes)."""
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        value = credentials.get(field)
    else:
        value = getattr(request, "data", request.POST).get(field)
    return None if value is None else mask_sign_in_name(value)


def save_with_update_record(instance, before):
    """Save a registered model's changed `instance` and write django-auditlog's "update" record for it, the same
    record its pre_save receiver writes, but diffed against `before` (a copy of the row as read, under lock, in
    this transaction) rather than against a second read of the row."""
    from auditlog.receivers import _create_log_entry

    with disable_auditlog():
        instance.save()
    _create_log_entry(
        action=LogEntry.Action.UPDATE,
        instance=instance,
        sender=type(instance),
        diff_old=before,
        diff_new=instance,
        use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES,
    )


def record_full_view(*, actor, instance, remote_addr=None):
    with set_actor(actor, remote_addr=remote_addr):
        accessed.send(sender=type(instance), instance=instance)


def record_event(*, kind, user=None, request=None, username="", **detail):
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    return SecurityEvent.objects.create(
        kind=kind,
        user=user if authenticated else None,
        # a name typed at a failed sign-in may be someone's ID number: kept masked
        username=(user.get_username() if authenticated else mask_sign_in_name(username))[:150],
        ip=client_address(request),
        detail=detail,
    )


def record_export(*, user, request=None, what, **detail):
    """Every export of personal or money data is recorded: call this from each export view."""
    return record_event(kind=SecurityEventKind.EXPORT, user=user, request=request, what=what, **detail)


@receiver(user_logged_in)
def _signed_in(sender, request, user, **kwargs):
    record_event(kind=SecurityEventKind.SIGN_IN, user=user, request=request)
    if request is not None and hasattr(request, "session"):
        if request.session.session_key is None:
            request.session.save()
        UserSession.objects.get_or_create(session_key=request.session.session_key, defaults={"user": user})


@receiver(user_logged_out)
def _signed_out(sender, request, user, **kwargs):
    if user is not None:
        record_event(kind=SecurityEventKind.SIGN_OUT, user=user, request=request)
        UserSession.objects.filter(user=user, session_key=getattr(request.session, "session_key", None)).delete()


@receiver(user_locked_out)
def _locked_out(sender, request, username, ip_address, **kwargs):
    record_event(kind=SecurityEventKind.LOCKED_OUT, request=request, username=str(username or ""))


@receiver(user_login_failed)
def _sign_in_failed(sender, credentials, request=None, **kwargs):
    # Only the username is kept: never the password that was tried.
    record_event(kind=SecurityEventKind.SIGN_IN_FAILED, request=request, username=str(credentials.get("username", "")))


def purge_expired(*, now=None):
    """Delete audit records older than AUDIT_RETENTION_DAYS (never fewer than 183 days: 等保 asks for six
    months, and the PostgreSQL trigger refuses anything younger anyway). Returns how many went."""
    import datetime

    from auditlog.models import LogEntry
    from django.conf import settings
    from django.utils import timezone

    days = max(int(settings.AUDIT_RETENTION_DAYS), 183)
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    entries, _ = LogEntry.objects.filter(timestamp__lt=cutoff).delete()
    events, _ = SecurityEvent.objects.filter(at__lt=cutoff).delete()
    return entries + events


def audit_workbook(rows, header, *, title="审计记录"):
    """An Excel file of audit records for the bureau, laid out for printing (text escaped so no cell runs as a
    formula)."""
    from .excel import Column, PrintableSheet, new_workbook, workbook_bytes

    wb = new_workbook()
    columns = [Column(h, width=20) for h in header]
    sheet = PrintableSheet(wb, title, title=f"莘县特困人员照料服务平台{title}", columns=columns, unit="莘县民政局")
    count = 0
    for row in rows:
        sheet.row(row)
        count += 1
    sheet.total(["合计", f"{count}条"])
    sheet.sign_off()
    return workbook_bytes(wb)
