"""Static files: the same validators from every machine.

WhiteNoise serves each machine's STATIC_ROOT, filled by that machine's own
`collectstatic`, and derives ETag and Last-Modified from each file's modification
time: different on every machine for the same bytes. Behind a load balancer a
browser revalidating against another instance would then download the file again,
and shared caches would keep several copies. Here the ETag is a hash of the
file's content instead (WHITENOISE_ADD_HEADERS_FUNCTION, computed once per file
when the web process starts), and Last-Modified is not sent, so clients revalidate
with the ETag alone.

Hashed names (`app.3f2a9c1d0b7e.css`, from the manifest storage) are what pages
link to; WhiteNoise gives them a year's `Cache-Control: immutable`, so most of
the time nothing is revalidated at all.
"""

import hashlib

from whitenoise.middleware import WhiteNoiseMiddleware


def content_etag(headers, path: str, url: str) -> None:
    """Set the ETag from the file's bytes (the signature WhiteNoise calls)."""
    with open(path, "rb") as file:
        digest = hashlib.file_digest(file, "sha256").hexdigest()
    headers["ETag"] = f'"{digest[:32]}"'


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise without Last-Modified: a file's copy time differs between machines."""

    @staticmethod
    def serve(static_file, request):
        response = WhiteNoiseMiddleware.serve(static_file, request)
        del response["Last-Modified"]
        return response
