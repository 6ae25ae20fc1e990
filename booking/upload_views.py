"""The upload endpoint's body: `handle_upload(request, booking)`.

The patient-side views resolve the booking and check access, then return
``handle_upload(request, booking)``. Those views must be marked with
``@accepts_uploads`` (Django's ``csrf_exempt``): the CSRF middleware would otherwise
read request.POST, and so parse the whole multipart body with the default upload
handlers, before ours is in place. ``handle_upload`` puts the streaming handler in
first and then checks the CSRF token itself (``csrf_protect``), as Django's docs
describe for views that change the upload handlers. Nothing in the view may touch
request.POST or request.FILES before calling it.

A form that also carries the upload field (the checklist step, whose "Next" posts the
chosen files when JavaScript is off) uses ``with_posted_files`` the same way.
"""

import logging
from collections import Counter
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.http import HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template.defaultfilters import filesizeformat
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from booking.filetypes import SYSTEM_FILE, VIEWER_PROGRAM
from booking.uploads import (
    NotNeeded,
    StreamingUploadHandler,
    UploadRejected,
    disk_is_low,
    room_for,
    save_upload,
)

logger = logging.getLogger(__name__)

FIELD_NAME = "files"
# Refusals listed one by one in the page's messages; the rest are counted.
MAX_MESSAGES = 10
# Sent by static/js/upload.js with each batch: the viewer files its earlier batches
# left out, so that the notice counts the whole CD (display only, never trusted).
VIEWER_BEFORE_FIELD = "viewer_files_before"

accepts_uploads = csrf_exempt
"""Decorator for views that call handle_upload (which checks the CSRF token itself)."""


class HttpResponseSeeOther(HttpResponseRedirect):
    status_code = 303


def wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "") or bool(
        request.headers.get("X-Requested-With")
    )


def describe(upload) -> dict:
    data = {
        "id": upload.pk,
        "name": upload.original_name,
        "kind": upload.kind,
        "kind_label": str(upload.get_kind_display()),
        "size": upload.size,
        "size_label": filesizeformat(upload.size),
    }
    nested = getattr(upload, "nested_archives", None)
    if nested:
        data["nested_archives"] = nested
        data["note"] = _("It holds other archives inside; the clinic will look at them.")
    return data


def viewer_program_notice(count: int, *, images_received: bool = False) -> str:
    """The one calm line about a CD's viewer program, left out (no refusal: nothing is lost)."""
    text = ngettext(
        "The CD's viewer program (%(count)d file) is not needed and was left out.",
        "The CD's viewer program (%(count)d files) is not needed and was left out.",
        count,
    ) % {"count": count}
    if images_received:
        text += " " + _("Your images were received.")
    return text


def handle_upload(request, booking, *, redirect_to: str | None = None):
    """Keep every acceptable file under the field "files" on the booking.

    Answers JSON {"accepted": [...], "refused": [{"name", "reason"}], "left_out":
    {"viewer": n, "system": n}, "notice": "..."} when the request asks for JSON
    (Accept: application/json or X-Requested-With), else a 303 redirect back (to
    `redirect_to`, the same-site Referer or this URL) with a message naming each
    refused file. A CD's viewer program is not refused file by file: it is counted
    and mentioned once ("notice", only when there is one), and a folder's system
    files (Thumbs.db, .DS_Store) are left out without a word.
    """
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if disk_is_low():
        # Refused before a byte is written; the files already kept stay as they are.
        logger.error("Upload refused: less than UPLOAD_MIN_FREE_BYTES free in private storage.")
        message = _("We cannot receive files just now. Please try again later, or call us.")
        return _failure(request, redirect_to, message, status=503)
    return _streaming(
        request,
        booking,
        redirect_to,
        lambda handler: _checked_upload(request, booking, handler, redirect_to),
    )


def _streaming(request, booking, redirect_to, receive):
    """Put the streaming handler first, then `receive(handler)` the request's files.

    A request whose body cannot be read (too many files, too big, broken) gets a
    clear message; files the handler wrote but nobody kept are deleted.
    """
    handler = StreamingUploadHandler(request, room=room_for(booking))
    if hasattr(request, "_files"):
        # Still works (Django's handlers kept the files in memory or FILE_UPLOAD_TEMP_DIR
        # and save_upload copies them), but without the streaming size cut-off.
        logger.warning(
            "request.FILES was read before the upload handler was set: mark the view "
            "with booking.upload_views.accepts_uploads so uploads stream to disk."
        )
    else:
        request.upload_handlers.insert(0, handler)
    try:
        return receive(handler)
    except TooManyFilesSent:
        return _failure(request, redirect_to, _("Too many files were sent at once."))
    except (RequestDataTooBig, MultiPartParserError):
        return _failure(request, redirect_to, _("The files could not be received. Try again."))
    finally:
        handler.discard_leftovers()


def _back(request, redirect_to):
    if redirect_to:
        return HttpResponseSeeOther(redirect_to)
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseSeeOther(referer)
    return HttpResponseSeeOther(request.get_full_path())


def _failure(request, redirect_to, message, status=400):
    if wants_json(request):
        return JsonResponse({"accepted": [], "refused": [], "error": message}, status=status)
    messages.error(request, message)
    return _back(request, redirect_to)


@csrf_protect
def _checked_upload(request, booking, handler, redirect_to):
    files = request.FILES.getlist(FIELD_NAME)
    accepted, refused, left_out = _keep_files(request, booking, handler, files)
    if not files and not refused:
        return _failure(request, redirect_to, _("Choose one or more files first."))
    viewer = left_out[VIEWER_PROGRAM]

    if wants_json(request):
        data = {
            "accepted": accepted,
            "refused": refused,
            "left_out": {"viewer": viewer, "system": left_out[SYSTEM_FILE]},
        }
        viewer_total = viewer + _count_field(request, VIEWER_BEFORE_FIELD)
        if viewer_total:
            # Without "Your images were received": the script knows whether any were.
            data["notice"] = viewer_program_notice(viewer_total)
        return JsonResponse(data)

    _announce(request, accepted, refused, viewer)
    return _back(request, redirect_to)


def _keep_files(request, booking, handler, files):
    """Save each file; returns (accepted descriptions, refusals, Counter of files left out)."""
    accepted = []
    refused = [{"name": name, "reason": reason} for name, reason in handler.refused]
    left_out = Counter()
    user = getattr(request, "user", None)
    for uploaded_file in files:
        try:
            upload = save_upload(booking=booking, uploaded_file=uploaded_file, user=user)
        except NotNeeded as exc:
            left_out[exc.why] += 1
        except UploadRejected as exc:
            refused.append({"name": exc.name, "reason": exc.reason})
        else:
            accepted.append(describe(upload))
    return accepted, refused, left_out


def _announce(request, accepted, refused, viewer):
    """The page's messages after files arrived without the script: received, left out, refused."""
    if accepted:
        messages.success(
            request,
            ngettext(
                "%(count)d file was received.", "%(count)d files were received.", len(accepted)
            )
            % {"count": len(accepted)},
        )
    if viewer:
        messages.info(request, viewer_program_notice(viewer, images_received=bool(accepted)))
    for item in refused[:MAX_MESSAGES]:
        messages.error(
            request,
            _("%(name)s was not accepted: %(reason)s")
            % {"name": item["name"], "reason": item["reason"]},
        )
    if len(refused) > MAX_MESSAGES:
        rest = len(refused) - MAX_MESSAGES
        messages.error(
            request,
            ngettext(
                "%(count)d more file was not accepted.",
                "%(count)d more files were not accepted.",
                rest,
            )
            % {"count": rest},
        )


@dataclass(frozen=True)
class PostedFiles:
    """How many of the files posted with a form were kept, and how many refused."""

    kept: int
    refused: int


def with_posted_files(request, booking, view):
    """Keep the files posted in "files" together with a form's answers, then run the form's view.

    For a form that carries the upload field: without JavaScript, the checklist step's
    "Next" posts the chosen files with the answers, and they must not be lost. The files
    stream in and are checked as handle_upload's are, with the same messages; then
    `view(request, booking, posted)` runs with a PostedFiles (a view stays on its page
    when a file was refused, so the patient sees why). Like handle_upload, call it from a
    view marked accepts_uploads before anything reads request.POST: the CSRF token is
    checked here, after the streaming handler is in place.
    """
    # The handler refuses each file itself while the disk is low.
    return _streaming(
        request,
        booking,
        request.get_full_path(),
        lambda handler: _form_with_files(request, booking, handler, view),
    )


@csrf_protect
def _form_with_files(request, booking, handler, view):
    files = request.FILES.getlist(FIELD_NAME)
    accepted, refused, left_out = _keep_files(request, booking, handler, files)
    _announce(request, accepted, refused, left_out[VIEWER_PROGRAM])
    if refused:
        # The same words as upload.js says (the widget's data-text-stopped).
        messages.warning(
            request,
            _(
                "Not every file was accepted, so you are still on this page. Your answers "
                "are kept: press Next again to go on."
            ),
        )
    return view(request, booking, PostedFiles(kept=len(accepted), refused=len(refused)))


def _count_field(request, name: str) -> int:
    """A small count sent by the page's script; 0 when missing or not a sane number."""
    try:
        value = int(request.POST.get(name, 0))
    except (TypeError, ValueError):
        return 0
    return value if 0 <= value <= 1_000_000 else 0
