from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from .models import Role
from .scoping import actor_role


def home(request):
    if not request.user.is_authenticated:
        return redirect("login")
    return redirect("portal:home")


@login_required
def portal_home(request):
    role = actor_role(request.user)
    return render(request, "portal/home.html", {"role": role, "Role": Role})
