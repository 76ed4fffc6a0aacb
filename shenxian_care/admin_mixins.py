import copy

from auditlog.models import LogEntry
from django import forms
from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.debug import sensitive_post_parameters

from .fields import EncryptedJSONField, EncryptedTextField, secret_columns
from .privacy import SENSITIVE_FIELDS, mask_bank_account, mask_id_number
from .scoping import is_bureau

REVEAL_LINK = '<a class="reveal-link" href="{}">查看完整号码（须填写原因，记入审计）</a>'


def is_secret_number(field):
    """An encrypted ID or bank number (not an encrypted working document such as a roster's rows)."""
    return isinstance(field, EncryptedTextField) and not isinstance(field, EncryptedJSONField)


def secret_mask(field):
    """How an encrypted field is shown by default: a bank account as its last four digits, an ID number as
    3715**********1234."""
    return mask_bank_account if "account" in field.name else mask_id_number


class MaskedSecretInput(forms.TextInput):
    """The input of an ID or bank number on a record's page: it shows the stored number masked, and a masked
    value sent back means "unchanged" (the stored number is kept); anything else typed is a new number."""

    def __init__(self, *, stored, masked, reveal_url="", attrs=None):
        super().__init__({"autocomplete": "off", "size": 24, **(attrs or {})})
        self.stored = stored
        self.masked = masked
        self.reveal_url = reveal_url

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        return format_html("{} " + REVEAL_LINK, html, self.reveal_url) if self.reveal_url else html

    def format_value(self, value):
        return super().format_value(self.masked if value == self.stored else value)

    def value_from_datadict(self, data, files, name):
        value = super().value_from_datadict(data, files, name)
        return self.stored if isinstance(value, str) and value.strip() == self.masked else value


class NamesOnlyRelatedFilter(admin.RelatedFieldListFilter):
    """A list filter by a related record (a provider) whose choices are names: it never reads the record's
    encrypted columns (a bank account) to list them."""

    def field_choices(self, field, request, model_admin):
        model = field.remote_field.model
        ordering = self.field_admin_ordering(field, request, model_admin)
        choices = model._default_manager.complex_filter(field.get_limit_choices_to()).defer(*secret_columns(model))
        if ordering:
            choices = choices.order_by(*ordering)
        return [(record.pk, str(record)) for record in choices]


class MaskedReadOnly(forms.Widget):
    """A read-only ID or bank number on a record's page, shown masked (the admin renders a read-only field
    through its widget when the widget says `read_only`)."""

    read_only = True

    def __init__(self, mask, reveal_url=""):
        super().__init__()
        self.mask = mask
        self.reveal_url = reveal_url

    def render(self, name, value, attrs=None, renderer=None):
        if not value:
            return "-"
        if self.reveal_url:
            return format_html("{} " + REVEAL_LINK, self.mask(value), self.reveal_url)
        return format_html("{}", self.mask(value))


class ScopedAdminMixin:
    """The admin is the bureau's desk: only bureau staff get in, and lists go through the same scoping as
    pages and the API. Records are never deleted here (the audit trail must stay whole).

    A list page reads no encrypted column (ID and bank numbers, of the rows and of their `list_select_related`)
    but those named in `list_reads_secrets` (a column that shows a masked bank account); a record's own page and
    the actions on selected rows read them as usual."""

    list_reads_secrets = ()
    secrets_help = "显示为脱敏号码：不改动则保留原号码，输入新号码则替换。"

    def get_form(self, request, obj=None, change=False, **kwargs):
        """ID and bank numbers on a record's page are masked (PIPL: full numbers only through an audited view).
        Editable, the input shows the masked number and keeps the stored one unless a new one is typed;
        read-only, the masked number is shown in place of the number."""
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            return form
        if self.has_change_permission(request, obj):
            readonly = set(self.get_readonly_fields(request, obj))
        else:
            readonly = {f.name for f in self.model._meta.fields}
        for field in self.model._meta.concrete_fields:
            if not is_secret_number(field):
                continue
            mask = secret_mask(field)
            reveal = reverse(self._reveal_url_name, args=[obj.pk, field.name], current_app=self.admin_site.name)
            if field.name in readonly:
                form.base_fields[field.name] = forms.CharField(
                    label=field.verbose_name, required=False, disabled=True, widget=MaskedReadOnly(mask, reveal)
                )
            elif field.name in form.base_fields:
                # A copy: a field declared on the form class is shared by every form built from it.
                form_field = form.base_fields[field.name] = copy.deepcopy(form.base_fields[field.name])
                stored = getattr(obj, field.name)
                if stored:
                    form_field.widget = MaskedSecretInput(stored=stored, masked=mask(stored), reveal_url=reveal)
                    form_field.help_text = self.secrets_help
                else:
                    form_field.widget = forms.TextInput({"autocomplete": "off", "size": 24})
        return form

    @property
    def _reveal_url_name(self):
        return f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_reveal"

    def get_urls(self):
        opts = self.model._meta
        reveal = path(
            "<path:object_id>/reveal/<str:field_name>/",
            self.admin_site.admin_view(self.reveal_view),
            name=f"{opts.app_label}_{opts.model_name}_reveal",
        )
        return [reveal, *super().get_urls()]

    def reveal_view(self, request, object_id, field_name):
        """The one way to a full ID or bank number in the admin: asked for with a reason, shown once, and recorded
        in the audit trail (who, when, from where, which number, why) before it is shown."""
        from .audit import client_address

        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            field = self.model._meta.get_field(field_name)
        except FieldDoesNotExist:
            raise Http404 from None
        if not is_secret_number(field):
            raise Http404
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404
        reason = (request.POST.get("reason") or "").strip()[:200] if request.method == "POST" else ""
        error = "请填写查看原因。" if request.method == "POST" and not reason else ""
        full = ""
        if reason:
            LogEntry.objects.log_create(
                obj,
                force_log=True,
                action=LogEntry.Action.ACCESS,
                actor=request.user,
                remote_addr=client_address(request),
                additional_data={"field": field.name, "reason": reason},
            )
            full = getattr(obj, field.name)
        response = TemplateResponse(
            request,
            "admin/reveal_secret.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "original": obj,
                "title": f"查看完整{field.verbose_name}",
                "field_label": field.verbose_name,
                "masked": secret_mask(field)(getattr(obj, field.name)),
                "full": full,
                "error": error,
            },
        )
        response["Cache-Control"] = "no-store"
        return response

    def get_list_filter(self, request):
        return [self._names_only(spec) for spec in super().get_list_filter(request)]

    def _names_only(self, spec):
        if not isinstance(spec, str):
            return spec
        try:
            field = get_fields_from_path(self.model, spec)[-1]
        except FieldDoesNotExist:
            return spec
        if field.is_relation and field.many_to_one and secret_columns(field.related_model):
            return (spec, NamesOnlyRelatedFilter)
        return spec

    @method_decorator(sensitive_post_parameters(*SENSITIVE_FIELDS))
    def changeform_view(self, request, *args, **kwargs):
        # an error report of a form that takes an ID or bank number never shows what was typed
        return super().changeform_view(request, *args, **kwargs)

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":
            request.list_without_secrets = True
        return super().changelist_view(request, extra_context)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if hasattr(qs, "for_actor"):
            qs = qs.for_actor(request.user)
        if getattr(request, "list_without_secrets", False):
            related = self.list_select_related if isinstance(self.list_select_related, list | tuple) else ()
            unread = [n for n in secret_columns(qs.model, *related) if n not in self.list_reads_secrets]
            qs = qs.defer(*unread)
        return qs

    def has_module_permission(self, request):
        return is_bureau(request.user)

    def has_view_permission(self, request, obj=None):
        return is_bureau(request.user)

    def has_add_permission(self, request, *args):
        return is_bureau(request.user)

    def has_change_permission(self, request, obj=None):
        return is_bureau(request.user)

    def has_delete_permission(self, request, obj=None):
        return False
