"""The patient's booking pages, with translated paths (English source, e.g. "booking/")."""

from django.urls import path
from django.utils.translation import pgettext_lazy

from booking import views

app_name = "booking"

urlpatterns = [
    path(pgettext_lazy("URL", "booking/"), views.step_what, name="what"),
    path(pgettext_lazy("URL", "booking/when/"), views.step_when, name="when"),
    path(pgettext_lazy("URL", "booking/about-you/"), views.step_about, name="about"),
    path(pgettext_lazy("URL", "booking/images/"), views.step_images, name="images"),
    path(pgettext_lazy("URL", "booking/checklist/"), views.step_checklist, name="checklist"),
    path(pgettext_lazy("URL", "booking/upload/"), views.draft_upload, name="draft_upload"),
    path(pgettext_lazy("URL", "booking/review/"), views.step_review, name="review"),
    path(pgettext_lazy("URL", "booking/thank-you/"), views.thanks, name="thanks"),
    path(pgettext_lazy("URL", "booking/new-link/"), views.new_link, name="new_link"),
    path(pgettext_lazy("URL", "booking/new-link/sent/"), views.new_link_sent, name="new_link_sent"),
    path(pgettext_lazy("URL", "booking/<str:token>/"), views.private, name="private"),
    path(
        pgettext_lazy("URL", "booking/<str:token>/companion/"),
        views.private_companion,
        name="private_companion",
    ),
    path(
        pgettext_lazy("URL", "booking/<str:token>/cancel/"),
        views.private_cancel,
        name="private_cancel",
    ),
    path(
        pgettext_lazy("URL", "booking/<str:token>/plan-read/"),
        views.private_plan_read,
        name="private_plan_read",
    ),
    path(
        pgettext_lazy("URL", "booking/<str:token>/reminders/"),
        views.private_reminders,
        name="private_reminders",
    ),
    path(
        pgettext_lazy("URL", "booking/<str:token>/new-time/"),
        views.private_reschedule,
        name="private_reschedule",
    ),
    path(
        pgettext_lazy("URL", "booking/<str:token>/earlier-time/"),
        views.private_waitlist,
        name="private_waitlist",
    ),
    path(
        pgettext_lazy("URL", "booking/<str:token>/upload/"),
        views.private_upload,
        name="private_upload",
    ),
    path(
        pgettext_lazy("URL", "booking/<str:token>/appointment.ics"),
        views.private_ics,
        name="private_ics",
    ),
]
