from .scoping import is_bureau


class ScopedAdminMixin:
    """The admin is the bureau's desk: only bureau staff get in, and lists go through the same scoping as
    pages and the API. Records are never deleted here (the audit trail must stay whole)."""

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.for_actor(request.user) if hasattr(qs, "for_actor") else qs

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
