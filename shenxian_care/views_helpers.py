"""Small helpers shared by the portal pages of every app."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator

from .scoping import actor_role


def role_required(*roles):
    """A page for these roles only; anyone else signed in gets 403, anyone not signed in goes to login."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if actor_role(request.user) not in roles:
                raise PermissionDenied("您的角色无权访问此页面。")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def paginate(request, queryset, per_page=50):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def filter_list(request, filterset_class, queryset):
    """A portal list narrowed by its query parameters through the list's FilterSet (the API's own). A bad
    value is named in a message and left out, never a 500. Returns (queryset, the values taken)."""
    filterset = filterset_class(request.GET, queryset=queryset, request=request)
    if not filterset.is_valid():
        for name, errors in filterset.errors.items():
            messages.error(request, f"筛选条件“{filterset.filters[name].label or name}”无效：{errors[0]}")
    return filterset.qs, {k: v for k, v in filterset.form.cleaned_data.items() if v not in (None, "")}


def query_values(request, form_class):
    """A page's own query parameters (`?draw=3`) read through a form: a bad value is named in a Chinese message
    and left out, never a 500. Returns the cleaned values that were valid."""
    form = form_class(request.GET)
    if not form.is_valid():
        for name, errors in form.errors.items():
            messages.error(request, f"参数“{form.fields[name].label or name}”无效：{errors[0]}")
    return {k: v for k, v in getattr(form, "cleaned_data", {}).items() if v not in (None, "")}


def form_error_from(form, exc):
    """Show a domain error on the form: on its field where the form has it, otherwise at the top."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


def posted_ids(request, name="ids"):
    """The record ids a form posted under `name` (several checkboxes): whole numbers a database key can hold;
    anything else is not a record anyone can see, so it is left out rather than failing the request."""
    return [int(value) for value in request.POST.getlist(name) if value.isdigit() and len(value) <= 18]
