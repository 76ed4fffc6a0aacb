from .queue import background_delayed
from .scoping import actor_role


def portal(request):
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    return {
        "actor_role": actor_role(user) if user is not None else None,
        "background_delayed": signed_in and background_delayed(),
    }
