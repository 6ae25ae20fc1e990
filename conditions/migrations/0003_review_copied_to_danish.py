"""The single medical review each page had until now belongs to its Danish version.

Danish is the default language, and the Danish text is the one a doctor checked; the
other language versions start unreviewed and say so on the page until a doctor checks them.
"""

from django.db import migrations
from django.db.models import F

PAGE_MODELS = ("condition", "treatment")


def to_danish(apps, schema_editor):
    for name in PAGE_MODELS:
        model = apps.get_model("conditions", name)
        model.objects.filter(
            reviewed_on__isnull=False, reviewed_on_da__isnull=True, reviewed_by_da__isnull=True
        ).update(reviewed_on_da=F("reviewed_on"), reviewed_by_da=F("reviewed_by"))


def from_danish(apps, schema_editor):
    for name in PAGE_MODELS:
        model = apps.get_model("conditions", name)
        model.objects.update(reviewed_on=F("reviewed_on_da"), reviewed_by=F("reviewed_by_da"))


class Migration(migrations.Migration):
    dependencies = [("conditions", "0002_review_per_language")]

    operations = [migrations.RunPython(to_danish, from_danish)]
