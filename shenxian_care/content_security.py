"""The portal's Content-Security-Policy (settings: CONTENT_SECURITY_POLICY) and the few places it is relaxed.

Our own pages need nothing beyond the policy: no inline script or style (tests/shenxian_care/
test_content_security_policy.py). Third-party pages that cannot run under it get exactly what they need, on
their own responses only, here.
"""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from csp.middleware import CSPMiddleware
from rest_framework.renderers import BrowsableAPIRenderer

# DRF's browsable API (/api/v1/… opened in a browser) lays out its toolbar and forms with style="" attributes and
# puts Pygments' colours in a <style> element. Inline styles only; its scripts are files and stay under 'self'.
BROWSABLE_API = {"style-src": [UNSAFE_INLINE]}
# ReDoc (/api/redoc/) styles itself at run time with styled-components, which writes <style> elements (without
# them it stops with an error and draws nothing), and runs its search index in a worker it builds from a blob: URL
# out of its own bundle. Its script is a file under 'self' like ours. (Its sidebar also asks for a Redocly logo from
# cdn.redoc.ly: that stays refused, nothing is loaded from another host, and ReDoc then leaves the logo out.)
REDOC = {"style-src": [UNSAFE_INLINE], "worker-src": [SELF, "blob:"]}


def relax(directives):
    """django-csp's csp_update for both headers: the enforced policy and the report-only one (CSP_REPORT_ONLY=1),
    so that a relaxation means the same whichever mode the county runs."""

    def decorator(view):
        return csp_update(directives)(csp_update(directives, REPORT_ONLY=True)(view))

    return decorator


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with BROWSABLE_API added to the HTML pages of DRF's browsable API (one renderer
    serving every API view, so no per-view decorator can reach it)."""

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if isinstance(getattr(response, "accepted_renderer", None), BrowsableAPIRenderer):
            parts.update = {**(parts.update or {}), **BROWSABLE_API}
        return parts
