"""factory_boy factories for the booking models (shared by every booking test module).

`BookingFactory()` is a *requested* booking of a gold-implantation type (imaging
required, blood thinners asked, companion required), with the patient's name,
e-mail and phone, and consent given against the current "health_data" text.
"""

from datetime import timedelta

import factory
from django.utils import timezone

from booking.models import Anticoagulant, AppointmentType, Booking
from clinic.models import ConsentText
from tests.factories import ConsentTextFactory


class AppointmentTypeFactory(factory.django.DjangoModelFactory):
    """Defaults to the gold treatment: every checklist item applies."""

    class Meta:
        model = AppointmentType

    name_da = factory.Sequence(lambda n: f"Guldimplantation {n}")
    name_en = factory.Sequence(lambda n: f"Gold implantation {n}")
    description_da = "Behandling med guld."
    description_en = "Treatment with gold."
    duration_minutes = 45
    requestable_online = True
    imaging = AppointmentType.Imaging.REQUIRED
    asks_about_blood_thinners = True
    companion_required = True

    class Params:
        # AppointmentTypeFactory(phone_talk=True): a type with no checklist at all.
        phone_talk = factory.Trait(
            name_da="Uforpligtende telefonsamtale",
            name_en="Free non-binding phone talk",
            duration_minutes=15,
            imaging=AppointmentType.Imaging.NOT_NEEDED,
            asks_about_blood_thinners=False,
            companion_required=False,
        )


class AnticoagulantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Anticoagulant

    brand = factory.Sequence(lambda n: f"Medicine {n}")
    substance = factory.Sequence(lambda n: f"substance {n}")
    default_pause_days = 2
    active = True


def current_health_consent() -> ConsentText:
    return ConsentText.objects.current(ConsentText.Kind.HEALTH_DATA) or ConsentTextFactory(
        kind=ConsentText.Kind.HEALTH_DATA
    )


class BookingFactory(factory.django.DjangoModelFactory):
    """A requested booking. Pass `status=Booking.Status.DRAFT` etc. to change it."""

    class Meta:
        model = Booking
        skip_postgeneration_save = True

    status = Booking.Status.REQUESTED
    appointment_type = factory.SubFactory(AppointmentTypeFactory)
    name = factory.Sequence(lambda n: f"Patient {n}")
    email = factory.Sequence(lambda n: f"patient{n}@example.com")
    phone = factory.Sequence(lambda n: f"+45 20 {n % 100:02d} {n % 100:02d} 00")
    language = "da"
    earliest_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=7))
    latest_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=60))
    consent_text = factory.LazyFunction(current_health_consent)
    consent_given_at = factory.LazyFunction(timezone.now)
    submitted_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def anticoagulants(self, create, extracted, **kwargs):
        """BookingFactory(anticoagulants=[warfarin, ...])."""
        if create and extracted:
            self.anticoagulants.set(extracted)
