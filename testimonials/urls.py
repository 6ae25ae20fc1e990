"""Public URLs of patients' testimonials, with translated paths."""

from django.urls import path
from django.utils.translation import pgettext_lazy

from testimonials import views

app_name = "testimonials"

urlpatterns = [
    path(pgettext_lazy("URL", "testimonials/"), views.testimonial_index, name="index"),
    path(pgettext_lazy("URL", "testimonials/share/"), views.submit, name="submit"),
    path(pgettext_lazy("URL", "testimonials/thank-you/"), views.thanks, name="thanks"),
]
