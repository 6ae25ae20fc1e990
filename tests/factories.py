"""factory_boy factories for the models tests create often."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from clinic.models import ConsentText, Page, Practitioner


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@clinic.example")
    is_staff = True

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or "correct-horse-battery")
        if create:
            self.save(update_fields=["password"])

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        for name in extracted or []:
            self.groups.add(Group.objects.get(name=name))


class PractitionerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Practitioner

    name = factory.Sequence(lambda n: f"Doctor {n}")
    title_da = "Læge"
    title_en = "Doctor"


class PageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Page

    title_da = factory.Sequence(lambda n: f"Side {n}")
    title_en = factory.Sequence(lambda n: f"Page {n}")
    slug_da = factory.Sequence(lambda n: f"side-{n}")
    slug_en = factory.Sequence(lambda n: f"page-{n}")
    body_da = "<p>Tekst</p>"


class ConsentTextFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentText

    kind = ConsentText.Kind.HEALTH_DATA
    text_da = "Jeg giver lov."
    text_en = "I agree."
