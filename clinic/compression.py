"""Pages compressed with gzip, with Django's mitigation of the BREACH attack.

Django's GZipMiddleware pads each response with random bytes, so a page holding a
secret (a CSRF token) does not give it away through its compressed length. Only
text is compressed: patients' images and downloads are already compressed (or
streamed as they are), and static files are compressed once by WhiteNoise, which
answers them before this middleware runs.
"""

from django.middleware.gzip import GZipMiddleware

TEXT_TYPES = ("text/", "application/json", "application/ld+json", "application/javascript")


class TextGZipMiddleware(GZipMiddleware):
    def process_response(self, request, response):
        content_type = response.get("Content-Type", "").lower()
        if not content_type.startswith(TEXT_TYPES):
            return response
        return super().process_response(request, response)
