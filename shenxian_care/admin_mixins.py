from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import FieldDoesNotExist
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

from .fields import secret_columns
from .privacy import SENSITIVE_FIELDS
from .scoping import is_bureau


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


class ScopedAdminMixin:
    """The admin is the bureau's desk: only bureau staff get in, and lists go through the same scoping as
    pages and the API. Records are never deleted here (the audit trail must stay whole).

    A list page reads no encrypted column (ID and bank numbers, of the rows and of their `list_select_related`)
    but those named in `list_reads_secrets` (a column that shows a masked bank account); a record's own page and
    the actions on selected rows read them as usual."""

    list_reads_secrets = ()

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
