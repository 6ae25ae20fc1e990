"""Pages and JSON are sent gzipped, each time padded differently (BREACH); images and
patients' files are sent as they are."""

import gzip

import pytest
from django.urls import reverse

from booking.storage import private_storage
from tests.booking.factories import BookingFactory
from tests.booking.test_review_access import make_imaging
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
GZIP = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}


def test_a_page_is_gzipped_and_reads_the_same(client, demo):
    plain = client.get("/da/")
    zipped = client.get("/da/", **GZIP)
    assert "Content-Encoding" not in plain
    assert zipped["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["Vary"]
    assert gzip.decompress(zipped.content) == plain.content
    assert len(zipped.content) < len(plain.content) / 3


def test_each_compressed_answer_with_a_secret_is_padded_differently_against_breach(client, demo):
    """The booking form holds a CSRF token: its compressed length must not give it away."""
    first = client.get("/da/tidsbestilling/", **GZIP)
    second = client.get("/da/tidsbestilling/", **GZIP)
    assert "csrfmiddlewaretoken" in gzip.decompress(first.content).decode()
    assert "X-Page-Cache" not in second  # a page with a token is never kept
    assert first.content != second.content  # random bytes in the gzip header


def test_a_cached_public_page_is_kept_compressed_and_holds_no_secret(client, demo):
    """The same bytes for every visitor: there is no secret whose length could leak."""
    first = client.get("/da/", **GZIP)
    second = client.get("/da/", **GZIP)
    assert (first["X-Page-Cache"], second["X-Page-Cache"]) == ("miss", "hit")
    assert second.content == first.content
    html = gzip.decompress(second.content).decode()
    assert "csrfmiddlewaretoken" not in html
    assert not second.cookies


def test_patients_images_are_sent_as_they_are(client, settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    booking = BookingFactory(language="en")
    imaging = make_imaging(booking)
    client.force_login(UserFactory(username="doc", groups=["Doctors"]))
    instance = imaging["instances"][0]
    response = client.get(reverse("review:instance_preview", args=[instance.pk]), **GZIP)
    assert response.status_code == 200
    assert "Content-Encoding" not in response
    body = b"".join(response.streaming_content)
    assert body == private_storage().open(instance.preview.name).read()
    assert body[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_download_is_not_recompressed(client, settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    booking = BookingFactory(language="en")
    upload = make_imaging(booking)["pdf"]
    client.force_login(UserFactory(username="doc", groups=["Doctors"]))
    response = client.get(reverse("review:upload_download", args=[upload.pk]), **GZIP)
    assert response.status_code == 200
    assert "Content-Encoding" not in response
    assert b"".join(response.streaming_content) == private_storage().open(upload.file.name).read()
