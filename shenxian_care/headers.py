"""Headers every response carries for the people's data it may hold (PIPL art. 28; office PCs are shared)."""

from django.conf import settings
from django.utils.cache import patch_cache_control


class PrivacyHeadersMiddleware:
    """- `Cache-Control: no-store` on every response to a signed-in person, from the portal, the admin and the API
      (the simplest honest rule: nearly all of them show someone's name, address or level), so that no copy is left
      in the browser's or a proxy's cache. (The caregivers' offline page is kept on the phone by the service worker
      on purpose; that store is not the HTTP cache.)
    - `Permissions-Policy` (settings.PERMISSIONS_POLICY) on every response: the portal itself may ask for the
      position (the caregivers' check-in), nothing and nobody else for any device."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        # DRF puts the user it authenticated by token on the request as well, so API answers are covered too
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
        return response
