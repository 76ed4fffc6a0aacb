import copy

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import FieldDoesNotExist
from django.utils.html import format_html

from .fields import EncryptedTextField, secret_columns
from .privacy import mask_bank_account, mask_id_number
from .scoping import is_bureau


def secret_mask(field):
    """How an encrypted field is shown by default: a bank account as its last four digits, an ID number as
    3715**********1234."""
    return mask_bank_account if "account" in field.name else mask_id_number


class MaskedSecretInput(forms.TextInput):
    """The input of an ID or bank number on a record's page: it shows the stored number masked, and a masked
    value sent back means "unchanged" (the stored number is kept); anything else typed is a new number."""

    def __init__(self, *, stored, masked, attrs=None):
        super().__init__({"autocomplete": "off", "size": 24, **(attrs or {})})
        self.stored = stored
        self.masked = masked

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

    def __init__(self, mask):
        super().__init__()
        self.mask = mask

    def render(self, name, value, attrs=None, renderer=None):
        return format_html("{}", self.mask(value) if value else "-")


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
        form = super().get_form(request, obj, change, **kwargs)
        if obj is None:
            return form
        if self.has_change_permission(request, obj):
            readonly = set(self.get_readonly_fields(request, obj))
        else:
            readonly = {f.name for f in self.model._meta.fields}
        for field in self.model._meta.concrete_fields:
            if not isinstance(field, EncryptedTextField):
                continue
            mask = secret_mask(field)
            if field.name in readonly:
                form.base_fields[field.name] = forms.CharField(
                    label=field.verbose_name, required=False, disabled=True, widget=MaskedReadOnly(mask)
                )
            elif field.name in form.base_fields:
                # A copy: a field declared on the form class is shared by every form built from it.
                form_field = form.base_fields[field.name] = copy.deepcopy(form.base_fields[field.name])
                stored = getattr(obj, field.name)
                if stored:
                    form_field.widget = MaskedSecretInput(stored=stored, masked=mask(stored))
                    form_field.help_text = self.secrets_help
                else:
                    form_field.widget = forms.TextInput({"autocomplete": "off", "size": 24})
        return form

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
