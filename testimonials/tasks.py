"""Background work for testimonials: telling the staff a new one awaits review."""

import logging
import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task

from booking.access import site_base_url
from clinic.models import ClinicDetails, sender_address
from clinic.tasks import retry_later
from testimonials.models import Testimonial

logger = logging.getLogger(__name__)


def admin_change_url(testimonial_id: int) -> str:
    try:
        return reverse("admin:testimonials_testimonial_change", args=[testimonial_id])
    except NoReverseMatch:  # the admin is not registered (yet)
        return f"{reverse('admin:index')}testimonials/testimonial/{testimonial_id}/change/"


@task(queue_name="messages")
def notify_staff_of_testimonial(testimonial_id: int, site_url: str = "", attempt: int = 1) -> None:
    """E-mail the clinic that a testimonial awaits review, with a link to it in the admin.

    The e-mail holds neither the testimonial's text nor the patient's name or
    e-mail address: the staff read it behind the admin's login.
    """
    testimonial = Testimonial.objects.filter(pk=testimonial_id).first()
    clinic = ClinicDetails.load()
    if testimonial is None:
        return
    if clinic is None or not clinic.email:
        logger.error(
            "No clinic e-mail address: cannot tell staff of testimonial %s", testimonial_id
        )
        return
    with translation.override(settings.LANGUAGE_CODE):
        language_name = dict(settings.LANGUAGES).get(testimonial.language, testimonial.language)
        subject = _("A new testimonial awaits review")
        body = "\n\n".join(
            [
                _("A patient has sent a testimonial (written in %(language)s) through the website.")
                % {"language": language_name},
                _("It is not shown on the website until a member of staff has approved it."),
                _("Read it and approve or reject it here:")
                + "\n"
                + site_base_url(site_url)
                + admin_change_url(testimonial_id),
            ]
        )
    try:
        send_mail(subject, body, sender_address(clinic), [clinic.email])
    except (smtplib.SMTPException, OSError) as error:
        if not retry_later(
            notify_staff_of_testimonial,
            testimonial_id,
            site_url=site_url,
            attempt=attempt,
            error=error,
        ):
            raise
