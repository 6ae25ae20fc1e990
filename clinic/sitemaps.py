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


sitemaps = {"home": HomeSitemap, "pages": PageSitemap}
