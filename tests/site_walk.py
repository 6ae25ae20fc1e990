"""Every public URL of the site, found through sitemap.xml in every language."""

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit


def public_paths(client) -> list[str]:
    """Paths of every public page in every language, from sitemap.xml and its alternates."""
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    xml = response.content.decode()
    urls = set(re.findall(r"<loc>([^<]+)</loc>", xml))
    urls |= set(re.findall(r'hreflang="[a-z-]+"\s+href="([^"]+)"', xml))
    urls |= set(re.findall(r'href="([^"]+)"\s+hreflang=', xml))
    # The x-default alternate is "/", which redirects by the visitor's language.
    return sorted({urlsplit(url).path for url in urls} - {"/"})


class PageFacts(HTMLParser):
    """What the site-wide checks need to know about one HTML page."""

    def __init__(self):
        super().__init__()
        self.h1_count = 0
        self.title = ""
        self.html_lang = None
        self.meta_description = None
        self.resource_urls: list[str] = []
        self.alternates: dict[str, str] = {}
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.html_lang = attrs.get("lang")
        elif tag == "h1":
            self.h1_count += 1
        elif tag == "title":
            self._in_title = True
        elif tag == "meta" and attrs.get("name") == "description":
            self.meta_description = attrs.get("content")
        elif tag == "link":
            rel = attrs.get("rel", "")
            if rel == "alternate" and attrs.get("hreflang"):
                self.alternates[attrs["hreflang"]] = attrs.get("href", "")
            elif rel in {"stylesheet", "icon", "preload", "modulepreload", "manifest"}:
                self.resource_urls.append(attrs.get("href", ""))
        elif tag in {"script", "img", "iframe", "source", "video", "audio", "embed"}:
            for key in ("src", "srcset"):
                if attrs.get(key):
                    self.resource_urls.append(attrs[key])
        if attrs.get("style") and "url(" in attrs["style"]:
            self.resource_urls.append(attrs["style"])

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def page_facts(html: str) -> PageFacts:
    facts = PageFacts()
    facts.feed(html)
    return facts


def is_foreign(url: str) -> bool:
    """True for a URL that would load something from another host."""
    return bool(re.search(r"(^|[\s(,'\"])(https?:)?//", url))
