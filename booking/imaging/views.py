"""The doctors' imaging review pages and the permission-checked file view.

Every view here needs the `booking.review_imaging` permission (doctors; superusers
have every permission): anonymous visitors are sent to the staff login, other staff
get 403. Patients never reach these URLs with their private link: it opens only
their own page. Every preview (thumbnails too) and every download writes one
ImagingAccess row.
"""

import mimetypes
import re
import unicodedata
from functools import wraps
from urllib.parse import quote, urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from booking.checklist import checklist, reference_day
from booking.imaging import services
from booking.models import Booking, ImagingAccess, ImagingReview, Instance, Series, Study, Upload
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

    def __init__(self, *args, booking: Booking, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scan_study"].queryset = booking.studies.filter(study_date__isnull=False)
        self.fields["scan_study"].initial = booking.scan_study_id

    def clean(self):
        data = super().clean()
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


def booking_studies(booking):
    first = Instance.objects.order_by("instance_number", "frame", "pk")
    studies = list(
        Study.objects.filter(booking=booking).prefetch_related(
            Prefetch(
                "series",
                queryset=Series.objects.annotate(count=Count("instances")).order_by("number", "pk"),
            )
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
                booking=booking, doctor=request.user, **form.cleaned_data
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
    context = {
        "booking": booking,
        "day": services.appointment_day(booking),
        "studies": booking_studies(booking),
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
    ids = list(
        series.instances.order_by("instance_number", "frame", "pk").values_list("pk", flat=True)
    )
    if not ids:
        raise Http404
    try:
        number = int(request.GET.get("image", "1"))
    except ValueError:
        number = 1
    number = min(max(number, 1), len(ids))
    modality = series.modality or series.study.modality
    presets = services.window_presets() if services.presets_apply(modality) else []
    preset = services.preset_by_code(request.GET.get("preset", "default"))
    if preset.code not in {p.code for p in presets}:
        preset = services.preset_by_code("default")

    def page_url(n, code=None):
        query = {"image": n}
        if (code or preset.code) != "default":
            query["preset"] = code or preset.code
        return f"{request.path}?{urlencode(query)}"

    def image_url(instance_id, code=None):
        url = reverse("review:instance_preview", args=[instance_id])
        code = code or preset.code
        return f"{url}?preset={code}" if code != "default" else url

    context = {
        "booking": booking,
        "series": series,
        "study": series.study,
        "number": number,
        "total": len(ids),
        "image_src": image_url(ids[number - 1]),
        "next_src": image_url(ids[number]) if number < len(ids) else "",
        "previous_url": page_url(number - 1) if number > 1 else "",
        "next_url": page_url(number + 1) if number < len(ids) else "",
        "presets": [
            {
                "code": p.code,
                "label": p.label,
                "url": page_url(number, p.code),
                "current": p == preset,
            }
            for p in presets
        ],
        "preset": preset,
        "viewer_data": {
            "ids": ids,
            "src": reverse("review:instance_preview", args=[0]).replace("/0/", "/{id}/"),
            "preset": preset.code,
            "index": number - 1,
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
    preset = services.preset_by_code(request.GET.get("preset", "default"))
    fallback = False
    try:
        name = services.rendition(instance, preset)
    except services.RenderUnavailable:
        name, fallback = instance.preview.name, True
    response = serve_private(name)
    what = _("preview") if preset.code == "default" or fallback else f"{_('preview')} {preset.code}"
    services.log_access(
        user=request.user,
        booking=booking,
        upload=instance.upload,
        instance=instance,
        file_label=services.file_label(
            booking=booking, upload=instance.upload, instance=instance, what=what
        ),
        action=Action.PREVIEW,
        ip_address=client_address(request),
    )
    if fallback:
        response["X-Imaging-Window"] = "default"
    return response


@require_GET
@doctor_required
def instance_thumbnail(request, pk):
    instance = _instance(pk)
    booking = instance.series.study.booking
    response = serve_private(instance.thumbnail.name or instance.preview.name)
    services.log_access(
        user=request.user,
        booking=booking,
        upload=instance.upload,
        instance=instance,
        file_label=services.file_label(
            booking=booking, upload=instance.upload, instance=instance, what=_("thumbnail")
        ),
        action=Action.PREVIEW,
        ip_address=client_address(request),
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
    services.log_access(
        user=request.user,
        booking=upload.booking,
        upload=upload,
        file_label=services.file_label(booking=upload.booking, upload=upload, what=_("preview")),
        action=Action.PREVIEW,
        ip_address=client_address(request),
    )
    return response


@require_GET
@doctor_required
def upload_download(request, pk):
    upload = _upload(pk)
    response = serve_private(upload.file.name, download_name=upload.original_name)
    services.log_access(
        user=request.user,
        booking=upload.booking,
        upload=upload,
        file_label=services.file_label(booking=upload.booking, upload=upload),
        action=Action.DOWNLOAD,
        ip_address=client_address(request),
    )
    return response
