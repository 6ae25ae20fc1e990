"""The patient's pages: the appointment request flow, and the private booking page.

The request flow is one short screen at a time and works without JavaScript: a step
asks what depends on its answers on a second screen, only when it applies, and a step
reached while an earlier one is unanswered leads back to that one. The draft Booking is
made at the first step and its pk kept in the session, so going back, an error, or a
CSRF failure after a long pause never loses an answer. None of these pages is
page-cached: they are personal and carry CSRF tokens.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from booking import access, request_flow, scheduling, slots
from booking.before_treatment import published_online_types
from booking.calendar import booking_ics
from booking.checklist import checklist, scan_too_old
from booking.forms import (
    HAS_A_SCAN,
    AboutYouForm,
    CancelForm,
    ChecklistDetailsForm,
    ChecklistForm,
    CompanionForm,
    ImagingForm,
    NewLinkForm,
    PickTimeForm,
    ReviewForm,
    ScanForm,
    WhatForm,
    WhenForm,
    companion_details_apply,
    medicine_question_applies,
    scan_questions_apply,
)
from booking.imaging import services as imaging_services
from booking.models import Booking
from booking.timeline import timeline
from booking.upload_views import (
    PostedFiles,
    accepts_uploads,
    handle_upload,
    wants_json,
    with_posted_files,
)
from clinic.client import client_address
from clinic.i18n import get_by_translated_slug
from clinic.models import ConsentText
from conditions.models import Condition
from conditions.published import public_conditions

DRAFT_SESSION_KEY = "booking_draft_id"
SENT_SESSION_KEY = "booking_sent_id"


def checklist_details_apply(booking: Booking) -> bool:
    return medicine_question_applies(booking) or companion_details_apply(booking)


@dataclass(frozen=True)
class Step:
    """One numbered step of the flow; some have a second screen, shown only when it applies.

    The second screen (`follow_up`, at the step's URL with ?part=2) asks what depends on
    the first screen's answers, so that a patient meets only the questions that apply,
    also without JavaScript. Both screens carry the step's number.
    """

    name: str
    title: str
    form_class: type | None
    follow_up: type | None = None
    follow_up_applies: Callable[[Booking], bool] | None = None

    def has_follow_up(self, draft: Booking) -> bool:
        return self.follow_up is not None and self.follow_up_applies(draft)


STEPS = [
    Step("what", gettext_lazy("What would you like to book?"), WhatForm),
    Step("when", gettext_lazy("When can you come?"), WhenForm),
    Step("about", gettext_lazy("About you"), AboutYouForm),
    Step(
        "images",
        gettext_lazy("X-ray or scan images"),
        ImagingForm,
        ScanForm,
        scan_questions_apply,
    ),
    Step(
        "checklist",
        gettext_lazy("Before your treatment"),
        ChecklistForm,
        ChecklistDetailsForm,
        checklist_details_apply,
    ),
    Step("review", gettext_lazy("Check and send"), None),
]
STEP_BY_NAME = {step.name: step for step in STEPS}
FOLLOW_UP_PARAM = "part"


def site_url(request) -> str:
    return f"{request.scheme}://{request.get_host()}"


def current_draft(request) -> Booking | None:
    """The patient's draft; a time they hold is kept for them while they are active."""
    pk = request.session.get(DRAFT_SESSION_KEY)
    if not pk:
        return None
    draft = Booking.objects.drafts().select_related("appointment_type").filter(pk=pk).first()
    if draft is not None and draft.claim_starts_at is not None:
        scheduling.renew_hold(booking=draft)
    return draft


def steps_for(draft: Booking | None) -> list[Step]:
    """The steps this draft goes through: only the parts of the checklist its type has.

    The images come first of the checklist (their own step, for a type that takes images),
    then the other questions before the treatment (for a type that asks about blood
    thinners or needs a companion). When the patient picks a time and the type asks about
    blood thinners, these come before the times: the earliest time offered depends on the
    pause the medicines need.
    """
    if draft is None:
        return STEPS
    kind = draft.appointment_type
    order = ["what", "when", "about", "images", "checklist", "review"]
    if kind.patient_picks_time and kind.asks_about_blood_thinners:
        order = ["what", "images", "checklist", "when", "about", "review"]
    if kind.imaging == kind.Imaging.NOT_NEEDED:
        order.remove("images")
    if not (kind.asks_about_blood_thinners or kind.companion_required):
        order.remove("checklist")
    return [STEP_BY_NAME[name] for name in order]


def step_url(name: str, *, follow_up: bool = False) -> str:
    url = reverse(f"booking:{name}")
    return f"{url}?{FOLLOW_UP_PARAM}=2" if follow_up else url


def wants_follow_up(request) -> bool:
    return request.GET.get(FOLLOW_UP_PARAM) == "2"


def is_answered(draft: Booking, name: str) -> bool:
    """Whether a step's required answers are on the draft (optional ones never hold it up)."""
    kind = draft.appointment_type
    if name == "when":
        return bool(draft.earliest_date or draft.starts_at)
    if name == "about":
        return bool(draft.name and draft.email and draft.phone and draft.birth_date)
    if name == "images":
        return kind.imaging != kind.Imaging.REQUIRED or bool(draft.imaging_status)
    if name == "checklist":
        return not kind.asks_about_blood_thinners or bool(draft.takes_blood_thinners)
    return True


def first_missing_step(draft: Booking, before: str = "review") -> str | None:
    """The first step before `before` whose required answers are missing (someone jumped
    ahead, by URL or from a stale tab)."""
    for step in steps_for(draft):
        if step.name == before:
            return None
        if not is_answered(draft, step.name):
            return step.name
    return None


def refuse_skipping(request, draft: Booking, name: str):
    """A redirect when the patient may not be on this step yet, else None.

    A step this draft's type does not have leads on to the first unanswered step (or
    the review); a step reached with an earlier one unanswered leads back to that one.
    """
    if name not in {step.name for step in steps_for(draft)}:
        return redirect(step_url(first_missing_step(draft) or "review"))
    missing = first_missing_step(draft, before=name)
    if missing:
        messages.warning(
            request,
            _("Some answers are missing. Please fill in this page; your request is not sent yet."),
        )
        return redirect(step_url(missing))
    return None


def draft_for_step(request, name: str):
    """(draft, None) when the patient may be on this step, else (draft or None, a redirect)."""
    draft = current_draft(request)
    if draft is None:
        return None, redirect_to_start(request)
    return draft, refuse_skipping(request, draft, name)


def last_screen_url(draft: Booking, step: Step) -> str:
    return step_url(step.name, follow_up=step.has_follow_up(draft))


def step_context(draft: Booking | None, current: str, follow_up: bool = False) -> dict:
    steps = steps_for(draft)
    names = [step.name for step in steps]
    index = names.index(current)
    if follow_up:
        previous_url = step_url(current)
    else:
        previous_url = last_screen_url(draft, steps[index - 1]) if index else None
    return {
        "steps": steps,
        "step": STEP_BY_NAME[current],
        "step_number": index + 1,
        "step_count": len(steps),
        "follow_up": follow_up,
        "previous_url": previous_url,
        "draft": draft,
    }


def next_step_url(draft: Booking, current: str, follow_up: bool = False) -> str:
    """The step's second screen when it applies (and is not the one just answered),
    else the next step."""
    if not follow_up and STEP_BY_NAME[current].has_follow_up(draft):
        return step_url(current, follow_up=True)
    names = [step.name for step in steps_for(draft)]
    return step_url(names[names.index(current) + 1])


# --- The request flow -----------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def step_what(request):
    draft = current_draft(request)
    if request.method == "POST":
        form = WhatForm(request.POST, instance=draft or Booking())
        if form.is_valid():
            data = form.cleaned_data
            if draft is None:
                if not request_flow.allow_draft(client_address(request)):
                    # Counted per address: a draft holds uploads, so starting them
                    # without end could fill the disk.
                    form.add_error(
                        None,
                        _(
                            "You have started several requests in a short time. "
                            "Please try again later, or call us."
                        ),
                    )
                    return render_step(request, None, "what", form, status=429)
                draft = request_flow.start_draft(
                    appointment_type=data["appointment_type"],
                    condition=data["condition"],
                    painful_area=data["painful_area"],
                    language=translation.get_language(),
                )
                request.session[DRAFT_SESSION_KEY] = draft.pk
            else:
                request_flow.update_draft(booking=draft, **data)
            return redirect(next_step_url(draft, "what"))
    else:
        initial = {}
        slug = request.GET.get("condition", "")
        if slug and draft is None:
            condition = get_by_translated_slug(Condition.objects.published(), slug)
            if condition is not None:
                initial["condition"] = condition.pk
        shown = {"appointment_type": published_online_types(), "condition": public_conditions()}
        form = WhatForm(instance=draft, initial=initial, shown=shown)
    return render_step(request, draft, "what", form)


def render_step(
    request, draft, name: str, form, status: int = 200, follow_up: bool = False, **extra
):
    context = step_context(draft, name, follow_up) | {"form": form} | extra
    # "Fields marked with * must be filled in" only above a form that has such a field.
    context["form_has_required"] = any(field.required for field in form.fields.values())
    return render(request, "booking/step.html", context, status=status)


def _simple_step(request, draft: Booking, name: str):
    form_class = STEP_BY_NAME[name].form_class
    if request.method == "POST":
        form = form_class(request.POST, instance=draft)
        if form.is_valid():
            request_flow.update_draft(booking=draft, **form.cleaned_data)
            return redirect(next_step_url(draft, name))
    else:
        form = form_class(instance=draft)
    return render_step(request, draft, name, form)


def redirect_to_start(request):
    if request.session.get(SENT_SESSION_KEY):
        return redirect("booking:thanks")
    return redirect("booking:what")


@never_cache
@require_http_methods(["GET", "POST"])
def step_when(request):
    # Where the checklist comes first, the earliest time depends on its blood-thinner
    # answer: the step is refused until it is given (also when reached by URL).
    draft, refused = draft_for_step(request, "when")
    if refused:
        return refused
    kind = draft.appointment_type
    wants_period = request.GET.get("period") == "1" or request.POST.get("period") == "1"
    if not kind.patient_picks_time or wants_period:
        if request.method == "POST" and draft.claim_starts_at:
            # "None of these suit me": the held time goes back at once.
            scheduling.release_time(booking=draft)
        return _simple_step(request, draft, "when")
    return _pick_time_step(request, draft)


def _pick_time_step(request, draft: Booking):
    form = PickTimeForm(request.POST or None)
    status = submit_picked_time(
        request, form, lambda value: request_flow.pick_time(booking=draft, value=value)
    )
    if status is None:
        return redirect(next_step_url(draft, "when"))
    picker = time_picker_context(request, draft)
    return render_step(request, draft, "when", form, status=status, **picker)


def submit_picked_time(request, form: PickTimeForm, take) -> int | None:
    """Pass a posted time to `take`; None when it was taken, else the status to show the
    times again with (the form then carries the patient's message)."""
    if request.method != "POST" or not form.is_valid():
        return 200
    try:
        take(form.cleaned_data["time"])
    except ValidationError as error:
        form.add_error("time", error)
        return 409 if getattr(error, "code", "") == "time_taken" else 400
    return None


def time_picker_context(request, booking: Booking, *, exclude_own: bool = True) -> dict:
    """The free times for the "When" step and the private page's reschedule, by day."""
    kind = booking.appointment_type
    practitioners = scheduling.performers(kind)
    chosen = None
    wanted = request.GET.get("practitioner", "")
    if wanted.isdigit():
        chosen = next((p for p in practitioners if p.pk == int(wanted)), None)
    times = scheduling.offered_times(
        appointment_type=kind,
        earliest=scheduling.earliest_for(booking),
        practitioner=chosen,
        exclude_booking=booking if exclude_own else None,
        practitioners=practitioners,
    )
    days = slots.slots_by_day(times, scheduling.zone())
    page_days = 5
    start = request.GET.get("page", "")
    page = int(start) if start.isdigit() else 0
    shown = days[page * page_days : (page + 1) * page_days]
    names = {p.pk: p for p in practitioners}
    current = ""
    if booking.claim_starts_at and booking.practitioner_id:
        current = scheduling.pick_value(booking.starts_at, booking.practitioner_id)
    held = scheduling.hold_is_live(booking)
    time_days = []
    for day, day_slots in shown:
        options = []
        for slot in day_slots:
            value = scheduling.pick_value(slot.start, slot.practitioner_id)
            options.append(
                {
                    "value": value,
                    "start": slot.start,
                    "practitioner": names.get(slot.practitioner_id),
                    "checked": value == current,
                }
            )
        time_days.append((day, options, any(option["checked"] for option in options)))
    return {
        "time_days": time_days,
        "any_checked": any(has_checked for _day, _options, has_checked in time_days),
        "time_practitioners": practitioners if len(practitioners) > 1 else [],
        "time_practitioner": chosen,
        "time_page": page,
        "time_has_more": len(days) > (page + 1) * page_days,
        "held_until": booking.hold_expires_at if held else None,
        "held_start": booking.starts_at if held else None,
    }


@never_cache
@require_http_methods(["GET", "POST"])
def step_about(request):
    draft, refused = draft_for_step(request, "about")
    return refused or _simple_step(request, draft, "about")


SCAN_FIELDS = {"scan_date": None, "scan_body_area": "", "scan_modality": ""}


@accepts_uploads
@never_cache
@require_http_methods(["GET", "POST"])
def step_images(request):
    """The images step: the upload box first, then how the clinic gets the images.

    Its form carries the upload field. Without JavaScript "Next" posts the chosen files
    with the answer: they are kept (with_posted_files checks the CSRF token after its
    streaming handler is in place, so nothing here may read request.POST before it), and a
    refused file keeps the patient on the step. The second screen asks about the scan,
    for a patient who has one.
    """
    draft, refused = draft_for_step(request, "images")
    if refused:
        return refused
    if wants_follow_up(request):
        return _scan_screen(request, draft)
    if request.method == "POST":
        return with_posted_files(request, draft, _post_images)
    form = ImagingForm(instance=draft, has_uploads=draft.uploads.exists())
    return _render_images(request, draft, form)


def _post_images(request, draft: Booking, posted: PostedFiles):
    form = ImagingForm(request.POST, instance=draft, has_uploads=draft.uploads.exists())
    valid = form.is_valid()
    if valid:
        answer = form.cleaned_data
        void = {} if answer["imaging_status"] in HAS_A_SCAN else SCAN_FIELDS
        request_flow.update_draft(booking=draft, **answer, **void)
    if posted.kept:
        request_flow.note_uploads(booking=draft)
    if not valid:
        return _render_images(request, draft, form)
    if posted.refused:
        return redirect("booking:images")
    return redirect(next_step_url(draft, "images"))


def _render_images(request, draft: Booking, form):
    extra = {
        "scan_too_old": scan_too_old(draft),
        "upload_url": reverse("booking:draft_upload"),
        "uploads": draft.uploads.all(),
    }
    return render_step(request, draft, "images", form, **extra)


def _scan_screen(request, draft: Booking):
    """The questions about the scan; the view is csrf_exempt for the uploads, so the token
    of this screen's plain form is checked here."""
    if not scan_questions_apply(draft):
        return redirect("booking:images")
    if request.method == "POST":
        return csrf_protect(_post_scan)(request, draft)
    return _render_scan(request, draft, ScanForm(instance=draft))


def _post_scan(request, draft: Booking):
    form = ScanForm(request.POST, instance=draft)
    if form.is_valid():
        request_flow.update_draft(booking=draft, **form.cleaned_data)
        return redirect(next_step_url(draft, "images", follow_up=True))
    return _render_scan(request, draft, form)


def _render_scan(request, draft: Booking, form):
    extra = {"scan_too_old": scan_too_old(draft)}
    return render_step(request, draft, "images", form, follow_up=True, **extra)


@never_cache
@require_http_methods(["GET", "POST"])
def step_checklist(request):
    """The questions before the treatment; what depends on an answer comes on a second screen.

    A changed answer empties the follow-up answers it makes void (no medicine for "No",
    no companion's name when nobody is confirmed).
    """
    draft, refused = draft_for_step(request, "checklist")
    if refused:
        return refused
    follow_up = wants_follow_up(request)
    if follow_up and not checklist_details_apply(draft):
        return redirect("booking:checklist")
    form_class = ChecklistDetailsForm if follow_up else ChecklistForm
    if request.method == "POST":
        form = form_class(request.POST, instance=draft)
        if form.is_valid():
            void = {} if follow_up else form.no_longer_applies()
            request_flow.update_draft(booking=draft, **form.cleaned_data, **void)
            return redirect(next_step_url(draft, "checklist", follow_up))
    else:
        form = form_class(instance=draft)
    return render_step(request, draft, "checklist", form, follow_up=follow_up)


@accepts_uploads
@never_cache
@require_http_methods(["POST"])
def draft_upload(request):
    """Files arrive on the draft while the patient is still in the flow.

    handle_upload checks the CSRF token itself, after putting its streaming handler
    in place; nothing here may read request.POST or request.FILES before it.
    """
    draft = current_draft(request)
    if draft is None:
        raise Http404
    response = handle_upload(request, draft, redirect_to=reverse("booking:images"))
    request_flow.note_uploads(booking=draft)
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def step_review(request):
    draft = current_draft(request)
    if draft is None:
        # A second click on "send" lands here after the first one went through.
        return redirect_to_start(request)
    refused = refuse_skipping(request, draft, "review")
    if refused:
        # Reached by URL (or a stale tab) with a step unanswered: nothing is sent.
        return refused
    consent_text = ConsentText.objects.current(ConsentText.Kind.HEALTH_DATA)
    rate_limited = False
    form = None
    if consent_text is not None:
        if request.method == "POST":
            form = ReviewForm(request.POST, consent_text=consent_text)
            # Counted before sending (and only for a complete form), so simultaneous
            # sends cannot all slip under the limit.
            if form.is_valid() and not request_flow.allow_request(client_address(request)):
                rate_limited = True
            elif form.is_valid():
                try:
                    booking, _sent_now = request_flow.submit_request(
                        booking=draft, consent_text=consent_text, site_url=site_url(request)
                    )
                except scheduling.TimeTaken:
                    messages.error(
                        request,
                        _(
                            "Sorry, the time you picked was taken by someone else while you "
                            "filled in the form. Please choose another time; all your other "
                            "answers are kept."
                        ),
                    )
                    return redirect("booking:when")
                request.session.pop(DRAFT_SESSION_KEY, None)
                request.session[SENT_SESSION_KEY] = booking.pk
                return redirect("booking:thanks")
        else:
            form = ReviewForm(consent_text=consent_text)
        # The consent text is in front of the patient now: lock this version.
        consent_text.mark_shown()
    names = {step.name for step in steps_for(draft)}
    context = step_context(draft, "review") | {
        "form": form,
        "rate_limited": rate_limited,
        "items": checklist(draft),
        "scan_too_old": scan_too_old(draft),
        "medicines": list(draft.anticoagulants.all()),
        "upload_count": draft.uploads.count(),
        "images_step": "images" in names,
        "questions_step": "checklist" in names,
        "weekday_names": weekday_names(draft),
        "held_until": draft.hold_expires_at if scheduling.hold_is_live(draft) else None,
    }
    return render(request, "booking/review.html", context, status=429 if rate_limited else 200)


def weekday_names(booking: Booking) -> list[str]:
    from booking.forms import WEEKDAYS

    names = dict(WEEKDAYS)
    return [str(names[day]) for day in sorted(booking.weekdays or []) if day in names]


@never_cache
@require_GET
def thanks(request):
    pk = request.session.get(SENT_SESSION_KEY)
    booking = Booking.objects.sent().filter(pk=pk).first() if pk else None
    if booking is None:
        return redirect("booking:what")
    link = site_url(request) + access.private_path(booking, translation.get_language())
    return render(request, "booking/thanks.html", {"booking": booking, "private_link": link})


# --- The private page -------------------------------------------------------------


def link_invalid(request):
    """The same answer for an expired, a forged and an unknown link."""
    return render(request, "booking/link_invalid.html", status=404)


# A cancelled booking's time is free for others again: the page no longer shows it.
SHOWS_TIME = (Booking.Status.TENTATIVE, Booking.Status.CONFIRMED, Booking.Status.COMPLETED)


def private_context(request, booking: Booking, token: str, **forms) -> dict:
    """Everything the private page shows, decided here so the page never contradicts itself.

    Each message has one place: the scan warning sits on the images step (beside the
    upload form only when there is no such step), the doctor's advice on the images
    step when it is the step's text, and the blood-thinner section says either "do not
    stop" or shows the agreed plan. The appointment type's general advice gives way to
    the personal plan once a doctor has agreed it.
    """
    prefetch_related_objects([booking], "plan_lines__anticoagulant")
    kind = booking.appointment_type
    active = booking.status in request_flow.CANCELLABLE
    review = imaging_services.patient_context(booking, checklist(booking))
    items, advice = review["items"], review["imaging_advice"]
    steps = timeline(booking, items=items)
    companion_form = forms.get("companion_form") or CompanionForm(
        instance=booking, action=private_action("private_companion", token)
    )
    cancel_form = forms.get("cancel_form") or CancelForm()
    context = {
        "booking": booking,
        "token": token,
        "active": active,
        "items": items,
        "steps": steps if active or booking.status == Booking.Status.COMPLETED else [],
        "shows_time": booking.starts_at is not None and booking.status in SHOWS_TIME,
        "scan_warning_by_uploads": scan_too_old(booking)
        and not any(step.warning for step in steps),
        "imaging_advice": advice
        if advice and advice.advice_for_patient not in {item.detail for item in items}
        else None,
        "shows_blood_thinners": kind.asks_about_blood_thinners
        and booking.takes_blood_thinners in (Booking.Answer.YES, Booking.Answer.DONT_KNOW),
        "plan_lines": booking.plan_lines.all(),
        "shows_type_instructions": not booking.plan_agreed,
        "read_plan_url": private_action("private_plan_read", token)
        if active and booking.plan_agreed and booking.plan_read_at is None
        else None,
        "ics_url": private_action("private_ics", token)
        if booking.status == Booking.Status.CONFIRMED and booking.starts_at
        else None,
        "companion_form": companion_form,
        "companion_form_open": companion_form.is_bound or not booking.companion_confirmed,
        "show_companion_form": active and kind.companion_required,
        "cancel_form": cancel_form,
        "cancel_url": private_action("private_cancel", token),
        "may_change": scheduling.patient_may_change(booking),
        "reschedule_url": private_action("private_reschedule", token)
        if scheduling.patient_may_reschedule(booking)
        else None,
        "waitlist_url": private_action("private_waitlist", token),
        "reminders_url": private_action("private_reminders", token) if active else None,
    }
    if active and kind.imaging != "not_needed":
        context |= {
            "upload_url": private_action("private_upload", token),
            "uploads": booking.uploads.all(),
        }
    return context


def private_action(name: str, token: str) -> str:
    return reverse(f"booking:{name}", kwargs={"token": token})


def render_private(request, booking, token, status=200, **forms):
    context = private_context(request, booking, token, **forms)
    return render(request, "booking/private.html", context, status=status)


@never_cache
@require_GET
def private(request, token):
    booking = access.booking_for_token(token)
    if booking is None:
        return link_invalid(request)
    return render_private(request, booking, token)


@never_cache
@require_POST
def private_companion(request, token):
    booking = access.booking_for_token(token)
    if booking is None:
        return link_invalid(request)
    form = CompanionForm(
        request.POST,
        instance=booking,
        action=reverse("booking:private_companion", kwargs={"token": token}),
    )
    if booking.status in request_flow.CANCELLABLE and form.is_valid():
        request_flow.confirm_companion(
            booking=booking,
            name=form.cleaned_data["companion_name"],
            phone=form.cleaned_data["companion_phone"],
        )
        messages.success(request, _("Thank you. We have noted who will drive you home."))
        return redirect("booking:private", token=token)
    booking.refresh_from_db()
    return render_private(request, booking, token, companion_form=form)


@never_cache
@require_POST
def private_cancel(request, token):
    booking = access.booking_for_token(token)
    if booking is None:
        return link_invalid(request)
    form = CancelForm(
        request.POST, action=reverse("booking:private_cancel", kwargs={"token": token})
    )
    if not scheduling.patient_may_change(booking):
        messages.error(request, scheduling.TOO_LATE_ONLINE)
        return redirect("booking:private", token=token)
    if form.is_valid():
        request_flow.cancel_by_patient(booking=booking, reason=form.cleaned_data["reason"])
        messages.success(request, _("Your appointment has been cancelled."))
        return redirect("booking:private", token=token)
    return render_private(request, booking, token, cancel_form=form)


@never_cache
@require_POST
def private_plan_read(request, token):
    """The patient confirms having read the agreed plan, so the clinic need not chase it."""
    booking = access.booking_for_token(token)
    if booking is None:
        return link_invalid(request)
    if request_flow.confirm_plan_read(booking=booking):
        messages.success(request, _("Thank you. We have noted that you have read your plan."))
    return redirect("booking:private", token=token)


@never_cache
@require_POST
def private_reminders(request, token):
    """Reminders on or off; messages about the plan and a new time are sent regardless."""
    booking = access.booking_for_token(token)
    if booking is None:
        return link_invalid(request)
    wants = request.POST.get("reminders") == "on"
    if request_flow.switch_reminders(booking=booking, on=wants):
        if booking.reminders_off:
            messages.success(request, _("We will not send you reminders."))
        else:
            messages.success(request, _("We will send you reminders."))
    return redirect("booking:private", token=token)


@never_cache
@require_http_methods(["GET", "POST"])
def private_reschedule(request, token):
    """Another free time, from the private page; the old time is free for others at once."""
    booking = access.booking_for_token(token)
    if booking is None:
        return link_invalid(request)
    if not scheduling.patient_may_reschedule(booking):
        messages.error(request, scheduling.TOO_LATE_ONLINE)
        return redirect("booking:private", token=token)
    form = PickTimeForm(request.POST or None)
    status = submit_picked_time(
        request, form, lambda value: scheduling.reschedule_by_patient(booking=booking, value=value)
    )
    if status is None:
        messages.success(request, _("Your appointment has been moved to the new time."))
        return redirect("booking:private", token=token)
    context = {"booking": booking, "token": token, "form": form}
    context |= time_picker_context(request, booking)
    return render(request, "booking/reschedule.html", context, status=status)


@never_cache
@require_POST
def private_waitlist(request, token):
    """Join or leave the waitlist for an earlier time."""
    booking = access.booking_for_token(token)
    if booking is None:
        return link_invalid(request)
    if scheduling.patient_may_reschedule(booking):
        wants = request.POST.get("wants_earlier") == "1"
        scheduling.join_waitlist(booking=booking, wants=wants)
        if wants:
            messages.success(request, _("We will e-mail you if an earlier time frees up."))
        else:
            messages.success(request, _("You will no longer be told about earlier times."))
    return redirect("booking:private", token=token)


@never_cache
@require_GET
def private_ics(request, token):
    booking = access.booking_for_token(token)
    if booking is None:
        return link_invalid(request)
    if booking.status != Booking.Status.CONFIRMED or booking.starts_at is None:
        raise Http404
    response = HttpResponse(booking_ics(booking, site_url(request)), content_type="text/calendar")
    response["Content-Disposition"] = f'attachment; filename="appointment-{booking.reference}.ics"'
    return response


@accepts_uploads
@never_cache
@require_http_methods(["POST"])
def private_upload(request, token):
    booking = access.booking_for_token(token)
    if booking is None:
        return link_invalid(request)
    if booking.status not in request_flow.CANCELLABLE:
        closed = _(
            "This booking is closed, so we cannot take files for it any more. "
            "Please call us if you want to send us images."
        )
        if wants_json(request):
            return JsonResponse({"accepted": [], "refused": [], "error": str(closed)}, status=409)
        messages.error(request, closed)
        return render_private(request, booking, token, status=409)
    response = handle_upload(
        request, booking, redirect_to=reverse("booking:private", kwargs={"token": token})
    )
    request_flow.note_uploads(booking=booking)
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def new_link(request):
    """Ask for a fresh private link. Answers the same whatever the address."""
    if request.method == "POST":
        form = NewLinkForm(request.POST)
        if form.is_valid():
            if not request_flow.allow_new_link(client_address(request)):
                # Counted per address, never per e-mail: the refusal says nothing about it.
                context = {"form": form, "rate_limited": True}
                return render(request, "booking/new_link.html", context, status=429)
            request_flow.send_new_links(
                email=form.cleaned_data["email"], site_url=site_url(request)
            )
            return redirect("booking:new_link_sent")
    else:
        form = NewLinkForm()
    return render(request, "booking/new_link.html", {"form": form})


@never_cache
@require_GET
def new_link_sent(request):
    return render(request, "booking/new_link.html", {"sent": True})
