"""The staff groups and what each may do, kept in sync after every migrate.

Each group gets exactly the permissions listed here: a permission added by hand in
the admin is removed at the next migrate, so this file is the one place to read
and change who may do what. Apps whose models do not exist yet are skipped.
"""

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.utils.translation import gettext_lazy as _

ALL = ("add", "change", "delete", "view")
VIEW = ("view",)

EDITORS = "Editors"
RECEPTION = "Reception"
DOCTORS = "Doctors"

# group name -> {(app_label, model name or "*"): actions, or custom codenames}
GROUP_PERMISSIONS: dict[str, dict[tuple[str, str], tuple[str, ...]]] = {
    EDITORS: {
        ("clinic", "clinicdetails"): ("change", "view"),
        ("clinic", "trustmark"): ALL,
        ("clinic", "practitioner"): ALL,
        ("clinic", "page"): ALL,
        ("clinic", "consenttext"): ("add", "change", "view"),
        ("conditions", "*"): ALL,
        ("testimonials", "*"): ALL,
        # Editors moderate testimonials and may need to contact the patient.
        ("testimonials", "testimonial"): ("view_testimonial_email",),
        # What can be booked is site content: names, descriptions, instructions.
        ("booking", "appointmenttype"): ALL,
    },
    RECEPTION: {
        ("clinic", "clinicdetails"): VIEW,
        ("clinic", "practitioner"): VIEW,
        ("clinic", "consenttext"): VIEW,
        ("booking", "booking"): ("add", "change", "view"),
        ("booking", "upload"): ("add", "view"),
        ("booking", "appointmenttype"): VIEW,
        # Staff maintain the list of blood-thinning medicines; a doctor agrees each plan.
        ("booking", "anticoagulant"): ("add", "change", "view"),
        # Reception sees that imaging was reviewed and the verdict, never the images.
        ("booking", "imagingreview"): VIEW,
        # Reception plans the week: working hours, absences and closures.
        ("booking", "workinghours"): ALL,
        ("booking", "absence"): ALL,
    },
    DOCTORS: {
        ("clinic", "practitioner"): VIEW,
        ("clinic", "consenttext"): VIEW,
        ("booking", "booking"): ("change", "view", "agree_anticoagulant_plan"),
        ("booking", "upload"): ("add", "view"),
        ("booking", "appointmenttype"): VIEW,
        ("booking", "anticoagulant"): ("add", "change", "view"),
        # The imaging review pages (booking/imaging/views.py) and the audit, read-only.
        ("booking", "imagingreview"): ("add", "view", "review_imaging"),
        ("booking", "imagingaccess"): VIEW,
        ("booking", "workinghours"): VIEW,
        ("booking", "absence"): VIEW,
    },
}

GROUP_DESCRIPTIONS = {
    EDITORS: _("Edit the site's content in every language."),
    RECEPTION: _("Handle appointment requests and confirm times."),
    DOCTORS: _("Review imaging and make clinical decisions."),
}


def _permissions_for(spec: dict[tuple[str, str], tuple[str, ...]]) -> set[Permission]:
    wanted: set[Permission] = set()
    for (app_label, model_name), actions in spec.items():
        try:
            app_config = apps.get_app_config(app_label)
        except LookupError:
            continue
        models = (
            app_config.get_models()
            if model_name == "*"
            else [m for m in app_config.get_models() if m._meta.model_name == model_name]
        )
        for model in models:
            codenames = [
                f"{action}_{model._meta.model_name}" if action in ALL else action
                for action in actions
            ]
            wanted.update(
                Permission.objects.filter(
                    content_type__app_label=app_label,
                    content_type__model=model._meta.model_name,
                    codename__in=codenames,
                )
            )
    return wanted


def sync_staff_groups() -> dict[str, int]:
    """Create the groups and give each exactly its permissions. Idempotent."""
    counts = {}
    for name, spec in GROUP_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        wanted = _permissions_for(spec)
        if set(group.permissions.all()) != wanted:
            group.permissions.set(wanted)
        counts[name] = len(wanted)
    return counts


def sync_after_migrate(sender, using="default", verbosity=1, **kwargs):
    # post_migrate fires once per app; only act on the last one, once every app's
    # permissions exist (create_permissions is itself idempotent).
    # (Django sends post_migrate only for apps that have a models module.)
    with_models = [config for config in apps.get_app_configs() if config.models_module]
    if sender.label != with_models[-1].label:
        return
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    sync_staff_groups()
