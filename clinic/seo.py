"""schema.org JSON-LD for the clinic and its doctors, as plain dictionaries.

No review or aggregate-rating markup: search engines treat a business's own
testimonials as self-serving.
"""

from urllib.parse import urljoin

from django.urls import reverse
from django.utils import translation


def clinic_id(base_url: str) -> str:
    return f"{base_url}/#clinic"


def medical_clinic(clinic, base_url: str) -> dict:
    data = {
        "@type": "MedicalClinic",
        "@id": clinic_id(base_url),
        "name": clinic.name,
        "url": base_url + reverse("home"),
        "telephone": clinic.phone,
        "email": clinic.email,
        "address": {
            "@type": "PostalAddress",
            "streetAddress": clinic.street_address,
            "postalCode": clinic.postal_code,
            "addressLocality": clinic.city,
            "addressCountry": "DK",
        },
    }
    if clinic.tagline:
        data["description"] = clinic.tagline
    return data


def physician(practitioner, base_url: str) -> dict:
    data = {
        "@type": "IndividualPhysician",
        "@id": f"{base_url}/#practitioner-{practitioner.pk}",
        "name": practitioner.name,
        "parentOrganization": {"@id": clinic_id(base_url)},
    }
    if practitioner.title:
        data["description"] = practitioner.title
    if practitioner.photo:
        # A path on this site, or the whole address of a bucket's object.
        data["image"] = urljoin(base_url + "/", practitioner.photo.url)
    return data


def graph(*nodes: dict) -> dict:
    return {
        "@context": "https://schema.org",
        "@graph": [node for node in nodes if node],
        "inLanguage": translation.get_language(),
    }
