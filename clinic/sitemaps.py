"""sitemap.xml: every public page, in every language, with its alternates."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from clinic.models import Page


class HomeSitemap(Sitemap):
    i18n = True
    alternates = True
    x_default = True
    changefreq = "weekly"
    priority = 1.0

    def items(self):
        return ["home"]

    def location(self, item):
        return reverse(item)


class ListSitemap(Sitemap):
    """The index pages of conditions and treatments, the questions and testimonials pages."""

    i18n = True
    alternates = True
    changefreq = "weekly"

    def items(self):
        return [
            "conditions:condition_index",
            "conditions:treatment_index",
            "conditions:faq",
            "testimonials:index",
        ]

    def location(self, item):
        return reverse(item)


class PageSitemap(Sitemap):
    # No x-default: a page's address differs per language, so "/<slug>/" without a
    # language would not lead anywhere for every visitor.
    i18n = True
    alternates = True
    changefreq = "monthly"

    def items(self):
        return Page.objects.published()

    def lastmod(self, page):
        return page.updated_at


class ContentSitemap(Sitemap):
    """Published conditions or treatments; drafts never appear here."""

    i18n = True
    alternates = True
    changefreq = "monthly"
    model = None

    def items(self):
        return self.model.objects.published()

    def lastmod(self, obj):
        return obj.updated_at


class ConditionSitemap(ContentSitemap):
    priority = 0.9

    @property
    def model(self):
        from conditions.models import Condition

        return Condition


class TreatmentSitemap(ContentSitemap):
    @property
    def model(self):
        from conditions.models import Treatment

        return Treatment


sitemaps = {
    "home": HomeSitemap,
    "lists": ListSitemap,
    "pages": PageSitemap,
    "conditions": ConditionSitemap,
    "treatments": TreatmentSitemap,
}
