"""Admin for the medical content: conditions, treatments, questions and their sources.

Every text is edited in language tabs (django-modeltranslation); the parts of a
condition's page and the lists are put in order by drag and drop
(django-admin-sortable2).
"""

from adminsortable2.admin import (
    SortableInlineAdminMixin,
    SortableStackedInline,
    SortableTabularInline,
)
from django import forms
from django.conf import settings
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import (
    TabbedTranslationAdmin,
    TranslationStackedInline,
    TranslationTabularInline,
)
from modeltranslation.utils import build_localized_fieldname

from clinic.admin_sortable import SortableAdminMixin
from clinic.translation_status import ErrorSummaryMixin, TranslationStatusMixin
from conditions.models import (
    FAQ,
    Condition,
    ConditionSection,
    DiagnosisStep,
    FAQTopic,
    KeyFigure,
    RiskFactor,
    Source,
    Symptom,
    Treatment,
    TreatmentRecommendation,
)


def in_every_language(*names: str) -> list[str]:
    """`name_da`, `name_en`, ... for each name: search finds text in any language."""
    return [
        build_localized_fieldname(name, code) for name in names for code, _n in settings.LANGUAGES
    ]


class ContentAdmin(ErrorSummaryMixin, TranslationStatusMixin, TabbedTranslationAdmin):
    """Language tabs, an error summary naming each field's language, and the
    translation status of each row in the list."""


class PreviewOnSiteMixin:
    def view_on_site(self, obj):
        # The public page shows a draft to staff with ?preview=1.
        return f"{obj.get_absolute_url()}?preview=1"


# Made afresh for each admin: modeltranslation rewrites the field lists in place.
def publishing():
    return (_("Publishing"), {"fields": ["status", "published_at"]})


def medical_review():
    return (
        _("Medical review"),
        {
            "fields": ["reviewed_on", "reviewed_by"],
            "description": _(
                "A doctor checks each language version of the text. Enter the day and the "
                "doctor in the tab of each language that has been checked. A version without "
                "them says on the page that a doctor has not checked it yet."
            ),
        },
    )


@admin.display(description=_("medically reviewed in"))
def reviewed_languages(obj) -> str:
    """The language versions a doctor has checked, e.g. "DA, EN"."""
    return ", ".join(code.upper() for code in obj.reviewed_languages()) or "–"


def search_engines():
    return (_("Search engines"), {"fields": ["meta_description"]})


# --- Inlines on a condition's page ------------------------------------------------


class SortableStacked(SortableInlineAdminMixin, TranslationStackedInline):
    template = SortableStackedInline.template
    extra = 0


class SortableTabular(SortableInlineAdminMixin, TranslationTabularInline):
    template = SortableTabularInline.template
    extra = 0


class SectionInline(SortableStacked):
    model = ConditionSection
    fields = ["kind", "heading", "body", "image", "image_alt", "image_caption"]


class RecommendationInline(SortableTabular):
    model = TreatmentRecommendation
    fields = ["treatment", "phase", "note"]


class KeyFigureInline(SortableTabular):
    model = KeyFigure
    fields = ["value", "label", "source"]
    autocomplete_fields = ["source"]


class SymptomInline(SortableTabular):
    model = Symptom
    fields = ["text"]


class RiskFactorInline(SortableTabular):
    model = RiskFactor
    fields = ["text"]


class DiagnosisStepInline(SortableTabular):
    model = DiagnosisStep
    fields = ["text"]


# --- Conditions and treatments ----------------------------------------------------


@admin.register(Condition)
class ConditionAdmin(PreviewOnSiteMixin, SortableAdminMixin, ContentAdmin):
    # SortableAdminMixin includes SortableAdminBase, which the sortable inlines need.
    fieldsets = [
        (None, {"fields": ["name", "slug", "summary"]}),
        publishing(),
        (
            _("Page text"),
            {"fields": ["introduction", "new_phase_text", "chronic_phase_text", "conclusion"]},
        ),
        medical_review(),
        search_engines(),
    ]
    inlines = [
        SectionInline,
        KeyFigureInline,
        RecommendationInline,
        SymptomInline,
        RiskFactorInline,
        DiagnosisStepInline,
    ]
    list_display = ["name", "status", "published_at", reviewed_languages, "updated_at"]
    list_filter = ["status"]
    search_fields = in_every_language("name", "summary")


@admin.register(Treatment)
class TreatmentAdmin(PreviewOnSiteMixin, SortableAdminMixin, ContentAdmin):
    fieldsets = [
        (None, {"fields": ["name", "slug", "summary", "offered_by_clinic"]}),
        publishing(),
        (
            _("Page text"),
            {"fields": ["body", "how_it_is_done", "anaesthesia", "aftercare"]},
        ),
        medical_review(),
        search_engines(),
    ]
    list_display = [
        "name",
        "status",
        "offered_by_clinic",
        "published_at",
        reviewed_languages,
        "updated_at",
    ]
    list_filter = ["status", "offered_by_clinic"]
    search_fields = in_every_language("name", "summary")


# --- Questions and answers --------------------------------------------------------


class FAQForm(forms.ModelForm):
    def clean(self):
        cleaned_data = super().clean()
        # A model's clean() cannot see its many-to-many fields; the form can.
        linked = ("conditions", "treatments")
        if (
            all(name in self.fields for name in linked)
            and not any(name in self.errors for name in linked)
            and not any(cleaned_data.get(name) for name in linked)
        ):
            self.add_error(
                "conditions",
                _(
                    "Link the question to at least one condition or treatment: "
                    "it is shown on their pages."
                ),
            )
        return cleaned_data


@admin.register(FAQ)
class FAQAdmin(SortableAdminMixin, ContentAdmin):
    form = FAQForm
    fieldsets = [
        (None, {"fields": ["question", "answer", "topic", "published"]}),
        (
            _("Shown with"),
            {
                "fields": ["conditions", "treatments"],
                "description": _("The conditions and treatments whose pages show the question."),
            },
        ),
        (None, {"fields": ["sources"]}),
    ]
    autocomplete_fields = ["conditions", "treatments", "sources"]
    list_display = ["question", "topic", "published"]
    list_filter = ["published", "topic", "conditions"]
    list_select_related = ["topic"]
    search_fields = in_every_language("question")


@admin.register(FAQTopic)
class FAQTopicAdmin(SortableAdminMixin, ContentAdmin):
    fields = ["name"]
    list_display = ["name"]
    search_fields = in_every_language("name")


# --- Sources ----------------------------------------------------------------------


@admin.register(Source)
class SourceAdmin(ContentAdmin):
    fields = ["title", "publisher", "year", "url"]
    list_display = ["title", "publisher", "year"]
    search_fields = [*in_every_language("title"), "publisher"]
