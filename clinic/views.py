"""Public pages of the clinic app, and the friendly error pages."""

import hashlib
from functools import cache

from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseServerError,
)
from django.shortcuts import render
from django.template import loader
from django.utils import translation
from django.views.decorators.http import condition, require_GET, require_safe

from clinic import seo, snapshots
from clinic.context_processors import current_clinic
from clinic.i18n import alternates_for_object, get_by_translated_slug
from clinic.models import ClinicDetails, Page
from clinic.page_cache import cache_public_page


@require_GET
@cache_public_page
def home(request):
    from conditions.published import public_conditions
    from testimonials.services import featured_testimonials

    conditions = public_conditions()
    team = snapshots.read("team")
    practitioners = team["practitioners"]
    clinic = current_clinic(request)
    base_url = f"{request.scheme}://{request.get_host()}"
    jsonld = None
    if clinic:
        jsonld = [seo.medical_clinic(clinic, base_url)]
        jsonld += [seo.physician(p, base_url) for p in practitioners]
    return render(
        request,
        "clinic/home.html",
        {
            "practitioners": practitioners,
            "trust_marks": [m for m in team["trust_marks"] if clinic and m.clinic_id == clinic.pk],
            "conditions": conditions,
            "testimonials": featured_testimonials(conditions),
            "jsonld": jsonld,
        },
    )


@require_GET
@cache_public_page
def page_detail(request, slug):
    page = get_by_translated_slug(Page.objects.published(), slug)
    if page is None:
        raise Http404
    return render(
        request,
        "clinic/page.html",
        {"page": page, "alternate_urls": alternates_for_object(page)},
    )


@require_GET
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        f"Sitemap: {request.build_absolute_uri('/sitemap.xml')}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


# /favicon.ico: browsers and crawlers ask for it at the root even when the pages
# link their icons (templates/includes/head_icons.html). The address never changes
# with the file, so it is cached for a month, not "immutable" like hashed names.
FAVICON_NAME = "favicon.ico"
FAVICON_MAX_AGE = 30 * 24 * 3600


@cache
def favicon_bytes() -> bytes:
    """The icon's bytes: from the source folders, else from collectstatic's copy."""
    path = finders.find(FAVICON_NAME)
    if path:
        with open(path, "rb") as file:
            return file.read()
    with staticfiles_storage.open(FAVICON_NAME) as file:
        return file.read()


def _favicon_etag(request) -> str:
    return hashlib.sha256(favicon_bytes()).hexdigest()[:32]


@require_safe
@condition(etag_func=_favicon_etag)
def favicon(request):
    response = HttpResponse(favicon_bytes(), content_type="image/vnd.microsoft.icon")
    response["Cache-Control"] = f"public, max-age={FAVICON_MAX_AGE}"
    return response


def bad_request(request, exception=None):
    """The friendly 400 page, in the language of the address.

    Malformed input is refused before LocaleMiddleware runs
    (clinic.middleware.MalformedInputMiddleware), so the language is read here.
    When the page itself cannot be rendered (a refused Host header breaks the
    context processors), a plain 400 is still a 400, never a 500.
    """
    with translation.override(translation.get_language_from_request(request, check_path=True)):
        try:
            return render(request, "400.html", status=400)
        except Exception:  # noqa: BLE001 - the request is already known to be bad
            return HttpResponseBadRequest(
                f"<h1>{translation.gettext('Bad request')} (400)</h1>", content_type="text/html"
            )


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def csrf_failure(request, reason=""):
    return render(request, "403.html", {"csrf_failure": True}, status=403)


def server_error(request):
    """Render the 500 page without anything that may itself be failing.

    The database may be the reason for the error, so the clinic's details are
    read defensively and the template uses no context processors.
    """
    try:
        clinic = ClinicDetails.load()
    except Exception:  # noqa: BLE001 - any failure here must not hide the error page
        clinic = None
    template = loader.get_template("500.html")
    return HttpResponseServerError(template.render({"clinic": clinic}))
