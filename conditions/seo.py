"""schema.org JSON-LD for condition, treatment and FAQ pages."""

import functools

from django.utils.html import strip_tags

from clinic.seo import medical_clinic, physician


@functools.lru_cache(maxsize=512)
def plain_text(html: str) -> str:
    """An answer's text without its markup; kept, as the HTML parser is slow and the
    same answers are on every page that lists them."""
    return strip_tags(html).strip()


def _reviewed(page: dict, obj, base_url: str) -> dict:
    """The review of the language version shown (as on the page); none for an unreviewed one."""
    review = obj.shown_review()
    if review:
        page["lastReviewed"] = review.reviewed_on.isoformat()
        page["reviewedBy"] = physician(review.reviewed_by, base_url)
    return page


def medical_therapy(treatment, base_url: str) -> dict:
    data = {
        "@type": "MedicalTherapy",
        "name": treatment.name,
        "url": base_url + treatment.get_absolute_url(),
    }
    if treatment.summary:
        data["description"] = treatment.summary
    return data


def faq_page(faqs, url: str) -> dict | None:
    if not faqs:
        return None
    return {
        "@type": "FAQPage",
        "url": url,
        "mainEntity": [
            {
                "@type": "Question",
                "name": faq.question,
                "acceptedAnswer": {"@type": "Answer", "text": plain_text(faq.answer)},
            }
            for faq in faqs
        ],
    }


def condition_page(condition, page, base_url: str, url: str, clinic) -> list[dict]:
    about = {
        "@type": "MedicalCondition",
        "name": condition.name,
        "signOrSymptom": [{"@type": "MedicalSignOrSymptom", "name": s.text} for s in page.symptoms],
        "riskFactor": [{"@type": "MedicalRiskFactor", "name": r.text} for r in page.risk_factors],
        "possibleTreatment": [medical_therapy(t, base_url) for t in page.treatments],
    }
    if condition.summary:
        about["description"] = condition.summary
    web_page = _reviewed(
        {
            "@type": "MedicalWebPage",
            "url": url,
            "name": condition.name,
            "description": condition.meta_description or condition.summary,
            "about": about,
        },
        condition,
        base_url,
    )
    if clinic:
        web_page["publisher"] = {"@id": f"{base_url}/#clinic"}
    nodes = [web_page, faq_page(page.faqs, url)]
    if clinic:
        nodes.append(medical_clinic(clinic, base_url))
    return nodes


def treatment_page(treatment, base_url: str, url: str, faqs, clinic) -> list[dict]:
    web_page = _reviewed(
        {
            "@type": "MedicalWebPage",
            "url": url,
            "name": treatment.name,
            "description": treatment.meta_description or treatment.summary,
            "about": medical_therapy(treatment, base_url),
        },
        treatment,
        base_url,
    )
    nodes = [web_page, faq_page(faqs, url)]
    if clinic:
        nodes.append(medical_clinic(clinic, base_url))
    return nodes
