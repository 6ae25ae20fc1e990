"""Responsive renditions of an editor's image, made when the image is saved.

A page shows an image as a <picture> with WebP and JPEG copies at several widths
(sorl-thumbnail makes them). Looking the copies up while a page renders costs a
cache or storage round trip per copy; instead the model keeps, beside the image,
the copies' storage names and sizes, and the page only turns names into URLs.
"""

from sorl.thumbnail import get_thumbnail

WIDTHS = (480, 960, 1440)
FORMATS = ("webp", "jpeg")
QUALITY = 82


def make_renditions(image) -> dict:
    """The copies of `image`, made now when missing.

    {"source": the image's name, "webp": [[name, width, height], ...], "jpeg": [...]}
    """
    widths = sorted({min(width, image.width) for width in WIDTHS})
    renditions: dict = {"source": image.name}
    for fmt in FORMATS:
        copies = [get_thumbnail(image, f"{w}", format=fmt.upper(), quality=QUALITY) for w in widths]
        renditions[fmt] = [[copy.name, copy.width, copy.height] for copy in copies]
    return renditions


def renditions_of(image, stored: dict | None) -> dict:
    """The stored renditions when they were made from this image, else made (or looked up) now."""
    if stored and stored.get("source") == image.name:
        return stored
    return make_renditions(image)
