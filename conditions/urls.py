"""Public URLs of the content: conditions, treatments and questions, with translated paths."""

from django.urls import path
from django.utils.translation import pgettext_lazy

from conditions import views

app_name = "conditions"

urlpatterns = [
    path(pgettext_lazy("URL", "conditions/"), views.condition_index, name="condition_index"),
    path(pgettext_lazy("URL", "conditions/<slug:slug>/"), views.condition_detail, name="condition"),
    path(pgettext_lazy("URL", "treatments/"), views.treatment_index, name="treatment_index"),
    path(pgettext_lazy("URL", "treatments/<slug:slug>/"), views.treatment_detail, name="treatment"),
    path(pgettext_lazy("URL", "questions/"), views.faq_index, name="faq"),
]
