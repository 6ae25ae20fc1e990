"""Response headers and staff-session rules that hold for the whole site.

- The Content-Security-Policy comes from settings.CONTENT_SECURITY_POLICY
  (django-csp); only the admin's pages may use inline styles, which Django's own
  admin templates and the rich-text editor need. Inline scripts are refused
  everywhere; the admin's import map carries the request's nonce
  (clinic/templatetags/csp_media.py).
- A staff session ends when the browser closes (set at login, clinic/two_factor.py)
  and after STAFF_SESSION_IDLE_HOURS without a request (StaffSessionMiddleware).
  Patients' sessions, which hold their unsent drafts, are never touched.
"""

import time

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.contrib.auth import logout

# The admin's own templates (e.g. the change list without actions) and the
# rich-text editor write <style> elements and style attributes.
ADMIN_STYLE_SRC = ["'self'", "'unsafe-inline'"]
ADMIN_PATH_PREFIX = "/admin/"

# Unix time of the staff member's last request, kept in the session.
LAST_SEEN_KEY = "staff_last_seen"
# The stamp is rewritten at most this often, so a busy page does not write the
# session on every request.
LAST_SEEN_RESOLUTION_SECONDS = 60


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with inline styles allowed in the admin only."""

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and request.path_info.startswith(ADMIN_PATH_PREFIX):
            parts.replace = {**(parts.replace or {}), "style-src": ADMIN_STYLE_SRC}
        return parts


def start_staff_session(request) -> None:
    """Make the just-logged-in staff member's session end with the browser and when idle."""
    request.session.set_expiry(0)
    request.session[LAST_SEEN_KEY] = int(time.time())


def idle_seconds() -> int:
    return settings.STAFF_SESSION_IDLE_HOURS * 3600


class StaffSessionMiddleware:
    """Log staff out after STAFF_SESSION_IDLE_HOURS without a request.

    Only sessions of logged-in staff are read or written: a public page view by a
    patient or a visitor never saves the session. A staff session without the
    stamp did not start at the staff login (e.g. it predates this rule) and ends.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            self._check(request)
        return self.get_response(request)

    def _check(self, request) -> None:
        user = request.user
        if not (user.is_authenticated and user.is_staff):
            return
        now = int(time.time())
        last_seen = request.session.get(LAST_SEEN_KEY)
        if not isinstance(last_seen, int) or now - last_seen >= idle_seconds():
            logout(request)
            return
        if now - last_seen >= LAST_SEEN_RESOLUTION_SECONDS:
            request.session[LAST_SEEN_KEY] = now
