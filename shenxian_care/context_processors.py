from .scoping import actor_role


def portal(request):
    user = getattr(request, "user", None)
    return {"actor_role": actor_role(user) if user is not None else None}
