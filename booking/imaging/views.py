"""The doctors' imaging review pages and the permission-checked file view.

Every view here needs the `booking.review_imaging` permission (doctors; superusers
have every permission): anonymous visitors are sent to the staff login, other staff
get 403. Patients never reach these URLs with their private link: it opens only
their own page. Every preview (thumbnails too) and every download writes one
ImagingAccess row.
"""

import mimetypes
import re
import tempfile
import unicodedata
from functools import wraps
from urllib.parse import quote, urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Prefetch
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from booking.checklist import checklist, reference_day
from booking.imaging import services
from booking.models import (
    Booking,
    ImagingAccess,
    ImagingReview,
    Instance,
    Report,
    Series,
    Study,
    Upload,
)
from booking.storage import private_storage
from clinic.client import client_address
from clinic.two_factor import second_factor_missing

PERMISSION = "booking.review_imaging"
Action = ImagingAccess.Action


def doctor_required(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated or second_factor_missing(request):
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not (user.is_active and user.is_staff and user.has_perm(PERMISSION)):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


# --- Pages ---------------------------------------------------------------------------


@never_cache
@require_GET
@doctor_required
def queue(request):
    bookings = services.awaiting_review()
    for booking in bookings:
        booking.day = services.appointment_day(booking)
    return render(request, "booking/review/queue.html", {"bookings": bookings})


class StudyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, study):
        parts = [
            date_format(study.study_date, "SHORT_DATE_FORMAT"),
            study.modality,
            study.body_part,
        ]
        return " · ".join([part for part in parts if part] + [str(study)])


class VerdictForm(forms.Form):
    """The doctor's verdict, and which of the booking's studies decides the scan's age."""

    verdict = forms.ChoiceField(
        label=gettext_lazy("Verdict"),
        choices=ImagingReview.Verdict.choices,
        widget=forms.RadioSelect,
    )
    note_for_clinic = forms.CharField(
        label=gettext_lazy("Note for the clinic"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Seen by staff only."),
    )
    advice_for_patient = forms.CharField(
        label=gettext_lazy("Advice for the patient"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=ImagingReview._meta.get_field("advice_for_patient").help_text,
    )
    scan_study = StudyChoiceField(
        label=gettext_lazy("The scan whose date counts"),
        queryset=Study.objects.none(),
        required=False,
        empty_label=gettext_lazy("The newest study"),
        help_text=gettext_lazy(
            "Its date decides if the patient is told the scan will be more than 2 years "
            "old on the day. Choose another study when the newest is not of the painful area."
        ),
    )

    identity_checked = forms.BooleanField(
        label=gettext_lazy(
            "I have checked the studies marked “differs”: they are this patient's, "
            "or I do not rely on them."
        ),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args, booking: Booking, **kwargs):
        super().__init__(*args, **kwargs)
        self.differing = services.differing_studies(booking)
        usable = booking.studies.filter(study_date__isnull=False).exclude(
            pk__in=[study.pk for study in self.differing]
        )
        self.fields["scan_study"].queryset = usable
        self.fields["scan_study"].initial = booking.scan_study_id
        if not self.differing:
            del self.fields["identity_checked"]

    def clean(self):
        data = super().clean()
        if self.differing and not data.get("identity_checked"):
            self.add_error(
                "identity_checked",
                ngettext(
                    "The name or birth date in %(count)d study differs from the booking. "
                    "Check it, then tick this box.",
                    "The name or birth date in %(count)d studies differs from the booking. "
                    "Check them, then tick this box.",
                    len(self.differing),
                )
                % {"count": len(self.differing)},
            )
        review = ImagingReview(
            verdict=data.get("verdict") or "",
            note_for_clinic=data.get("note_for_clinic", ""),
            advice_for_patient=data.get("advice_for_patient", ""),
        )
        try:
            review.clean_fields(exclude=["booking", "doctor", "verdict"])
        except forms.ValidationError as error:
            for field, errors in error.message_dict.items():
                for message in errors:
                    self.add_error(field, message)
        return data


# Anatomical order: along the slice normal, then the instance number, then the time taken.
DISPLAY_ORDER = (
    F("slice_position").asc(nulls_last=True),
    F("instance_number").asc(nulls_last=True),
    "acquisition",
    "frame",
    "pk",
)


def booking_studies(booking):
    first = Instance.objects.order_by(*DISPLAY_ORDER)
    studies = list(
        Study.objects.filter(booking=booking).prefetch_related(
            Prefetch(
                "series",
                queryset=Series.objects.annotate(count=Count("instances")).order_by("number", "pk"),
            ),
            Prefetch("reports", queryset=Report.objects.order_by("pk")),
        )
    )
    day = reference_day(booking)
    series_ids = [series.pk for study in studies for series in study.series.all()]
    thumbs = {}
    for instance in first.filter(series_id__in=series_ids).only(
        "pk", "series_id", "thumbnail", "preview", "instance_number", "frame"
    ):
        thumbs.setdefault(instance.series_id, instance)
    for study in studies:
        study.age = services.age_on(study.study_date, day)
        for series in study.series.all():
            series.first_instance = thumbs.get(series.pk)
    return studies


@never_cache
@require_http_methods(["GET", "POST"])
@doctor_required
def booking_detail(request, pk):
    booking = get_object_or_404(
        Booking.objects.sent().select_related("appointment_type", "practitioner"), pk=pk
    )
    if request.method == "POST":
        form = VerdictForm(request.POST, booking=booking)
        if form.is_valid():
            review = services.record_review(
                booking=booking,
                doctor=request.user,
                **{**form.cleaned_data, "identity_checked": bool(form.differing)},
            )
            messages.success(
                request,
                _("Saved: %(verdict)s for booking %(reference)s. The patient has been told.")
                % {"verdict": review.get_verdict_display(), "reference": booking.reference},
            )
            return redirect("review:queue")
    else:
        form = VerdictForm(booking=booking)
    uploads = list(booking.uploads.all())
    documents = [u for u in uploads if u.kind not in (Upload.Kind.DICOM, Upload.Kind.ZIP)]
    refused = [
        u
        for u in uploads
        if u.processing in (Upload.Processing.REFUSED, Upload.Processing.PARTLY)
        and u.processing_note
    ]
    pending = [u for u in uploads if u.processing == Upload.Processing.PENDING]
    originals = [u for u in uploads if u.kind in (Upload.Kind.DICOM, Upload.Kind.ZIP)]
    studies = booking_studies(booking)
    services.identity_panels(
        booking, studies, user=request.user, ip_address=client_address(request)
    )
    context = {
        "booking": booking,
        "day": services.appointment_day(booking),
        "studies": studies,
        "loose_reports": list(
            Report.objects.filter(booking=booking, study__isnull=True).select_related("upload")
        ),
        "documents": documents,
        "originals": originals,
        "refused": refused,
        "pending": pending,
        "reviews": booking.reviews.select_related("doctor"),
        "items": checklist(booking, len(uploads)),
        "form": form,
    }
    return render(request, "booking/review/booking.html", context)


@never_cache
@require_GET
@doctor_required
def viewer(request, pk):
    series = get_object_or_404(Series.objects.select_related("study__booking"), pk=pk)
    booking = series.study.booking
    if booking.status == Booking.Status.DRAFT:
        raise Http404
    instances = list(
        series.instances.order_by(*DISPLAY_ORDER).only(
            "pk",
            "default_window",
            "presets",
            "raw",
            "raw_offset",
            "raw_scale",
            "invert",
            "window_center",
            "window_width",
            "preview",
            "series_id",
        )
    )
    if not instances:
        raise Http404
    ids = [instance.pk for instance in instances]
    try:
        number = int(request.GET.get("image", "1"))
    except ValueError:
        number = 1
    number = min(max(number, 1), len(ids))
    current = instances[number - 1]
    # The series' windows are the first image's (a series shares its windows; an image
    # without one of them shows its own preview).
    presets = services.instance_presets(instances[0])
    codes = {p.code for p in presets}
    asked = request.GET.get("preset", "")
    code = asked if asked in codes else ""
    shown = services.shown_code(current, code) if presets else ""

    def page_url(n, preset_code=None):
        query = {"image": n}
        preset_code = code if preset_code is None else preset_code
        if preset_code:
            query["preset"] = preset_code
        return f"{request.path}?{urlencode(query)}"

    def image_url(instance, preset_code=None):
        url = reverse("review:instance_preview", args=[instance.pk])
        preset_code = code if preset_code is None else preset_code
        if preset_code and preset_code != instance.default_window:
            return f"{url}?{urlencode({'preset': preset_code})}"
        return url

    frames = []
    for instance in instances:
        # A lookup table from the file has no numbers: null, the server's rendition shows it.
        windows = {
            p.code: [p.center, p.width, p.function]
            if p.center is not None and p.width is not None
            else None
            for p in services.instance_presets(instance)
        }
        frames.append(
            {
                "default": instance.default_window,
                "windows": windows,
                "raw": [instance.raw_offset, instance.raw_scale, instance.invert]
                if instance.raw
                else None,
            }
        )
    has_raw = any(instance.raw for instance in instances)
    context = {
        "booking": booking,
        "series": series,
        "study": series.study,
        "number": number,
        "total": len(ids),
        "image_src": image_url(current),
        "next_src": image_url(instances[number]) if number < len(ids) else "",
        "previous_url": page_url(number - 1) if number > 1 else "",
        "next_url": page_url(number + 1) if number < len(ids) else "",
        "first_url": page_url(1),
        "last_url": page_url(len(ids)),
        "presets": [
            {
                "code": p.code,
                "label": p.label,
                "url": page_url(number, p.code),
                "current": p.code == shown,
            }
            for p in presets
        ],
        "shown": shown,
        "can_adjust": has_raw,
        "viewer_data": {
            "ids": ids,
            "src": reverse("review:instance_preview", args=[0]).replace("/0/", "/{id}/"),
            "raw": reverse("review:instance_raw", args=[0]).replace("/0/", "/{id}/")
            if has_raw
            else None,
            "preset": shown,
            "index": number - 1,
            "presets": [{"code": p.code, "label": p.label} for p in presets],
            "frames": frames,
            "text": {
                "window": _("W %(width)s · L %(center)s"),
                "custom": _("Custom window"),
                "reset": _("Reset window"),
            },
        },
    }
    return render(request, "booking/review/viewer.html", context)


# --- Files --------------------------------------------------------------------------------


def safe_filename(name: str) -> str:
    """An ASCII file name for Content-Disposition: no quotes, slashes or controls."""
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "file"
    return name[:150]


def serve_private(name: str, *, download_name: str = "") -> HttpResponse:
    storage = private_storage()
    if not name or not storage.exists(name):
        raise Http404
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if download_name:
        content_type = "application/octet-stream"
    if settings.IMAGING_SERVE_WITH_X_ACCEL:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = f"{settings.IMAGING_X_ACCEL_PREFIX}/{quote(name)}"
    else:
        response = FileResponse(storage.open(name, "rb"), content_type=content_type)
    if download_name:
        response["Content-Disposition"] = content_disposition_header(
            True, safe_filename(download_name)
        )
    else:
        response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _audit(request, **row) -> None:
    """One ImagingAccess row for what this request showed (services.log_access)."""
    services.log_access(user=request.user, ip_address=client_address(request), **row)


def _instance(pk):
    instance = get_object_or_404(
        Instance.objects.select_related("series__study__booking", "upload"), pk=pk
    )
    if instance.series.study.booking.status == Booking.Status.DRAFT:
        raise Http404
    return instance


@require_GET
@doctor_required
def instance_preview(request, pk):
    """One image, in a window preset when asked: only files the processing stored are
    served (a preset it did not render shows the default preview); nothing is decoded here."""
    instance = _instance(pk)
    booking = instance.series.study.booking
    code = request.GET.get("preset", "")[:20]
    fallback = False
    try:
        name = services.rendition(instance, code)
    except services.RenderUnavailable:
        name, fallback = instance.preview.name, True
    response = serve_private(name)
    plain = fallback or not code or code in ("default", instance.default_window)
    what = _("preview") if plain else f"{_('preview')} {code}"
    _audit(
        request,
        booking=booking,
        upload=instance.upload,
        instance=instance,
        file_label=services.file_label(
            booking=booking, upload=instance.upload, instance=instance, what=what
        ),
        action=Action.PREVIEW,
    )
    if fallback:
        response["X-Imaging-Window"] = "default"
    return response


@require_GET
@doctor_required
def instance_thumbnail(request, pk):
    return _instance_file(request, pk, lambda i: i.thumbnail.name or i.preview.name, _("thumbnail"))


def _instance_file(request, pk, name_of, what: str):
    """A stored file of one image (`name_of(instance)`), audited as a preview."""
    instance = _instance(pk)
    booking = instance.series.study.booking
    response = serve_private(name_of(instance))
    _audit(
        request,
        booking=booking,
        upload=instance.upload,
        instance=instance,
        file_label=services.file_label(
            booking=booking, upload=instance.upload, instance=instance, what=what
        ),
        action=Action.PREVIEW,
    )
    return response


def _upload(pk):
    upload = get_object_or_404(Upload.objects.select_related("booking"), pk=pk)
    if upload.booking.status == Booking.Status.DRAFT:
        raise Http404
    return upload


@require_GET
@doctor_required
def upload_preview(request, pk):
    upload = _upload(pk)
    response = serve_private(upload.preview.name)
    _audit(
        request,
        booking=upload.booking,
        upload=upload,
        file_label=services.file_label(booking=upload.booking, upload=upload, what=_("preview")),
        action=Action.PREVIEW,
    )
    return response


@require_GET
@doctor_required
def upload_download(request, pk):
    upload = _upload(pk)
    response = serve_private(upload.file.name, download_name=upload.original_name)
    _audit(
        request,
        booking=upload.booking,
        upload=upload,
        file_label=services.file_label(booking=upload.booking, upload=upload),
        action=Action.DOWNLOAD,
    )
    return response


@require_GET
@doctor_required
def instance_raw(request, pk):
    """The image's values for the viewer's free window/level (made by the processing)."""
    return _instance_file(request, pk, lambda i: i.raw.name, _("values"))


def _report(pk):
    report = get_object_or_404(Report.objects.select_related("booking", "upload"), pk=pk)
    if report.booking.status == Booking.Status.DRAFT:
        raise Http404
    return report


def _report_label(report: Report, what: str) -> str:
    title = report.title or report.member or report.upload.original_name
    return f"{report.booking.reference} · {_('report')} {title} · {what}"[:300]


@require_GET
@doctor_required
def report_preview(request, pk):
    report = _report(pk)
    response = serve_private(report.preview.name)
    _audit(
        request,
        booking=report.booking,
        upload=report.upload,
        file_label=_report_label(report, _("preview")),
        action=Action.PREVIEW,
    )
    return response


@require_GET
@doctor_required
def report_document(request, pk):
    """The report's PDF, as a download (never shown inline: a PDF may carry scripts)."""
    report = _report(pk)
    name = (report.title or "report").strip() or "report"
    response = serve_private(report.document.name, download_name=f"{name}.pdf")
    _audit(
        request,
        booking=report.booking,
        upload=report.upload,
        file_label=_report_label(report, _("download")),
        action=Action.DOWNLOAD,
    )
    return response


@require_GET
@doctor_required
def study_download(request, pk):
    """Every original file of a study, as one zip (paths inside the CD kept). Audited."""
    study = get_object_or_404(Study.objects.select_related("booking"), pk=pk)
    booking = study.booking
    if booking.status == Booking.Status.DRAFT:
        raise Http404
    out = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response, which closes it
    try:
        count = services.write_study_zip(study, out)
    except Exception:
        out.close()
        raise
    if not count:
        out.close()
        raise Http404
    size = out.tell()
    out.seek(0)
    day = study.study_date.isoformat() if study.study_date else "undated"
    response = FileResponse(
        out,
        as_attachment=True,
        filename=safe_filename(f"{booking.reference}-{day}-{study.modality or 'study'}.zip"),
        content_type="application/zip",
    )
    response["Content-Length"] = str(size)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    _audit(
        request,
        booking=booking,
        file_label=f"{booking.reference} · {_('all originals of study')} "
        f"{study.study_date or '-'} {study.modality} {study} ({count})",
        action=Action.DOWNLOAD,
    )
    return response
