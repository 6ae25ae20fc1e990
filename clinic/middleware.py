"""Requests no browser sends get the friendly 400 page before any view runs.

A NUL character, or bytes that are not UTF-8, come only from probes and broken
clients. Let through, they fail deep inside a view: PostgreSQL refuses a NUL in
a text parameter (psycopg raises ValueError, so `?condition=%00` became a 500),
and Django quietly turns broken UTF-8 into U+FFFD, which a form would then
store. Checking once at the door covers every page, the admin included.
"""

from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http.multipartparser import MultiPartParserError

NUL = "\x00"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def is_malformed(raw: bytes | str, encoding: str = "utf-8") -> bool:
    """Whether a percent-encoded query string or form body holds a NUL or bytes
    that are not valid in `encoding` (UTF-8 unless the client declared another)."""
    if isinstance(raw, str):
        # WSGI and ASGI hand the query string over as Latin-1 text of the raw bytes.
        try:
            raw = raw.encode("iso-8859-1")
        except UnicodeEncodeError:
            raw = raw.encode("utf-8")
    data = unquote_to_bytes(raw.replace(b"+", b" "))
    if b"\x00" in data:
        return True
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return True
    return False


class MalformedInputMiddleware:
    """Answer 400 (handler400, the friendly page) to malformed input.

    Put it before SessionMiddleware: a cookie holding a NUL is dropped first, so
    a forged session cookie starts an empty session instead of reaching the
    database. The address, query string and URL-encoded form bodies are checked
    as raw bytes; multipart forms are checked after parsing, in process_view, and
    not at all for views marked csrf_exempt, which parse uploads with their own
    handlers (booking.upload_views.accepts_uploads) and must be the first to read
    the body.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name in [name for name, value in request.COOKIES.items() if NUL in value]:
            del request.COOKIES[name]
        if NUL in request.path_info or is_malformed(request.META.get("QUERY_STRING", "")):
            raise BadRequest("NUL or invalid UTF-8 in the address")
        # request.body honours DATA_UPLOAD_MAX_MEMORY_SIZE; the view's request.POST
        # is parsed later from the same bytes.
        if (
            request.method == "POST"
            and request.content_type == FORM_CONTENT_TYPE
            and is_malformed(request.body, request.encoding or settings.DEFAULT_CHARSET)
        ):
            raise BadRequest("NUL or invalid UTF-8 in a form")
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or request.content_type == FORM_CONTENT_TYPE:
            return None
        if getattr(view_func, "csrf_exempt", False):
            return None
        try:
            fields = list(request.POST.lists())
            files = list(request.FILES.lists())
        except MultiPartParserError as error:
            raise BadRequest("Unreadable form") from error
        values = [name for name, _ in fields + files]
        values += [value for _, field_values in fields for value in field_values]
        values += [upload.name or "" for _, uploads in files for upload in uploads]
        if any(NUL in value for value in values):
            raise BadRequest("NUL in a form")
        return None
