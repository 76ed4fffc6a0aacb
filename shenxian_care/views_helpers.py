"""Small helpers shared by the portal pages of every app."""

from functools import wraps

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


def form_error_from(form, exc):
    """Show a domain error on the form: on its field where the form has it, otherwise at the top."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)
