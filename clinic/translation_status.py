"""Which translations are missing, for any model registered with django-modeltranslation.

A field counts as missing in a language when it is filled in Danish (the default
language) but empty there. Used by the admin: a column per language in the lists,
a "missing a translation" filter, the overview page at /admin/translations/, and the
error summary that names the language of each field with an error.
"""

from dataclasses import dataclass, field
from functools import cache

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from modeltranslation.settings import DEFAULT_LANGUAGE
from modeltranslation.translator import NotRegistered, translator
from modeltranslation.utils import build_localized_fieldname


def other_languages() -> list[str]:
    """Every site language except the default (Danish), in the order of LANGUAGES."""
    return [code for code, _name in settings.LANGUAGES if code != DEFAULT_LANGUAGE]


def language_name(code: str) -> str:
    # The site's own names (settings.LANGUAGES, in the project's catalogue): Django's
    # language info calls Norwegian "Norwegian Bokmal", which no catalogue translates.
    return str(capfirst(dict(settings.LANGUAGES)[code]))


@cache
def translated_text_fields(model) -> tuple[str, ...]:
    """The model's translated text fields (incl. slugs and rich text), in model order."""
    try:
        options = translator.get_options_for_model(model)
    except NotRegistered:
        return ()
    return tuple(
        f.name
        for f in model._meta.fields
        if f.name in options.all_fields and isinstance(f, models.CharField | models.TextField)
    )


def _empty(value) -> bool:
    # The same test as the database query below: NULL or the empty string.
    return value is None or value == ""


def missing_translations(obj, language: str) -> list[str]:
    """The fields of `obj` filled in Danish but empty in `language`."""
    if language == DEFAULT_LANGUAGE:
        return []
    return [
        name
        for name in translated_text_fields(type(obj))
        if not _empty(getattr(obj, build_localized_fieldname(name, DEFAULT_LANGUAGE), None))
        and _empty(getattr(obj, build_localized_fieldname(name, language), None))
    ]


def is_fully_translated(obj, language: str) -> bool:
    return not missing_translations(obj, language)


def _filled(field_name: str) -> Q:
    return Q(**{f"{field_name}__isnull": False}) & ~Q(**{field_name: ""})


def _blank(field_name: str) -> Q:
    return Q(**{f"{field_name}__isnull": True}) | Q(**{field_name: ""})


def missing_translation_q(model, language: str) -> Q:
    """Matches the objects with a field filled in Danish but empty in `language`."""
    condition = Q(pk__in=[])
    for name in translated_text_fields(model):
        condition |= _filled(build_localized_fieldname(name, DEFAULT_LANGUAGE)) & _blank(
            build_localized_fieldname(name, language)
        )
    return condition


def field_label(model, name: str) -> str:
    return str(capfirst(model._meta.get_field(name).verbose_name))


# --- The list: one column per language and a filter ----------------------------


class MissingTranslationFilter(admin.SimpleListFilter):
    title = _("missing a translation")
    parameter_name = "missing_translation"

    def lookups(self, request, model_admin):
        return [(code, language_name(code)) for code in other_languages()]

    def queryset(self, request, queryset):
        if self.value() in other_languages():
            return queryset.filter(missing_translation_q(queryset.model, self.value()))
        return queryset


def _language_column(code: str):
    @admin.display(boolean=True, description=code.upper())
    def column(self, obj):
        return is_fully_translated(obj, code)

    column.__name__ = f"translated_{code}"
    return column


class TranslationStatusMixin:
    """For a TranslationAdmin: a ✓/✗ column per language and the "missing" filter.

    An admin may define `translation_status_queryset(request)` to limit the objects
    the overview page checks (e.g. only the versions still in use).
    """

    def get_list_display(self, request):
        columns = [f"translated_{code}" for code in other_languages()]
        return [*super().get_list_display(request), *columns]

    def get_list_filter(self, request):
        return [*super().get_list_filter(request), MissingTranslationFilter]


for _code in other_languages():
    setattr(TranslationStatusMixin, f"translated_{_code}", _language_column(_code))


# --- The change form: a summary of the errors that names each field's language --


@dataclass
class ErrorItem:
    label: str
    messages: list[str]
    field_id: str = ""


def _field_label(form, name: str) -> str:
    model = form._meta.model
    try:
        db_field = model._meta.get_field(name)
    except FieldDoesNotExist:
        db_field = None
    original = getattr(db_field, "translated_field", None)
    if original is not None:
        return f"{capfirst(original.verbose_name)} ({db_field.language.upper()})"
    form_field = form.fields.get(name)
    label = form_field.label if form_field is not None and form_field.label else name
    return str(capfirst(label))


def _form_errors(form, prefix: str = "") -> list[ErrorItem]:
    items = []
    for name, errors in form.errors.items():
        if name == "__all__" or name not in form.fields:
            if prefix:  # the main form's own non-field errors are shown by Django
                # An inline row's box has the form's prefix as its id.
                items.append(ErrorItem(prefix.rstrip(": "), list(errors), form.prefix))
            continue
        items.append(
            ErrorItem(
                prefix + _field_label(form, name),
                list(errors),
                form[name].id_for_label or form[name].auto_id,
            )
        )
    return items


def error_summary(adminform, inline_admin_formsets) -> list[ErrorItem]:
    """Every field with an error, labelled with its language, main form first."""
    items = []
    if adminform is not None and adminform.form.is_bound:
        items += _form_errors(adminform.form)
    for inline in inline_admin_formsets or []:
        formset = inline.formset
        if not formset.is_bound:
            continue
        name = capfirst(formset.model._meta.verbose_name)
        for number, form in enumerate(formset.forms, start=1):
            if formset.can_delete and formset._should_delete_form(form):
                continue
            items += _form_errors(form, prefix=f"{name} {number}: ")
        non_form = list(formset.non_form_errors())
        if non_form:
            items.append(
                ErrorItem(
                    str(capfirst(formset.model._meta.verbose_name_plural)),
                    non_form,
                    f"{formset.prefix}-group",
                )
            )
    return items


class ErrorSummaryMixin:
    """Lists the form's errors at its top, each naming the language tab it is in.

    With language tabs an error in a hidden tab is easy to miss; the list sits in a
    role="alert" element so screen readers announce it, and each entry links to the
    field (opening its tab).
    """

    change_form_template = "admin/translated_change_form.html"

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["error_summary"] = error_summary(
            context.get("adminform"), context.get("inline_admin_formsets")
        )
        return super().render_change_form(request, context, add, change, form_url, obj)


# --- The overview page ----------------------------------------------------------


@dataclass
class UntranslatedObject:
    label: str
    url: str
    missing: list[str]


@dataclass
class ModelGroup:
    name: str
    objects: list[UntranslatedObject] = field(default_factory=list)


def _admin_parents(admin_site) -> dict:
    """Inline models -> (the parent model, the name of the foreign key to it)."""
    parents = {}
    for parent_model, model_admin in admin_site._registry.items():
        for inline in model_admin.inlines:
            if inline.model in parents:
                continue
            for f in inline.model._meta.concrete_fields:
                if f.is_relation and f.many_to_one and f.related_model is parent_model:
                    parents[inline.model] = (parent_model, f.name)
                    break
    return parents


def _change_url(admin_site, model, pk) -> str:
    opts = model._meta
    try:
        return reverse(f"{admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=[pk])
    except NoReverseMatch:
        return ""


def _can_see(user, model) -> bool:
    opts = model._meta
    return user.has_perm(f"{opts.app_label}.view_{opts.model_name}") or user.has_perm(
        f"{opts.app_label}.change_{opts.model_name}"
    )


def untranslated_by_language(request, admin_site) -> list[tuple[str, str, list[ModelGroup]]]:
    """Per language: the objects the user may see that are not fully translated.

    One query per model: every object missing any language is fetched once, with
    its parent when it is edited inline on the parent's page.
    """
    languages = other_languages()
    parents = _admin_parents(admin_site)
    groups = {code: [] for code in languages}
    models_in_admin = [
        model
        for model in translator.get_registered_models(abstract=False)
        if translated_text_fields(model)
        and (model in admin_site._registry or model in parents)
        and _can_see(request.user, model)
    ]
    models_in_admin.sort(key=lambda m: (m._meta.app_label, str(m._meta.verbose_name_plural)))
    for model in models_in_admin:
        any_missing = Q(pk__in=[])
        for code in languages:
            any_missing |= missing_translation_q(model, code)
        model_admin = admin_site._registry.get(model)
        parent = None if model_admin else parents[model]
        if model_admin is None:
            queryset = model._default_manager.select_related(parent[1])
        elif hasattr(model_admin, "translation_status_queryset"):
            queryset = model_admin.translation_status_queryset(request)
        else:
            queryset = model_admin.get_queryset(request)
        queryset = queryset.filter(any_missing)
        name = str(capfirst(model._meta.verbose_name_plural))
        per_language = {code: ModelGroup(name) for code in languages}
        for obj in queryset:
            if parent:
                parent_obj = getattr(obj, parent[1])
                url = _change_url(admin_site, parent[0], parent_obj.pk)
                label = f"{parent_obj} › {obj}"
            else:
                url = _change_url(admin_site, model, obj.pk)
                label = str(obj)
            for code in languages:
                missing = missing_translations(obj, code)
                if missing:
                    per_language[code].objects.append(
                        UntranslatedObject(label, url, [field_label(model, m) for m in missing])
                    )
        for code in languages:
            if per_language[code].objects:
                groups[code].append(per_language[code])
    return [(code, language_name(code), groups[code]) for code in languages]


def translation_status_view(request, admin_site):
    context = {
        **admin_site.each_context(request),
        "title": _("Missing translations"),
        "languages": untranslated_by_language(request, admin_site),
    }
    return TemplateResponse(request, "admin/translation_status.html", context)
