"""Two app servers behind nginx, as on two machines (tests/multinode.py).

Instances A and B each have their own VAR_DIR; they share the PostgreSQL database, Redis
and the S3 buckets, with one task worker beside them and deploy/nginx.conf in front. What
one machine stores or caches, the other must serve: an editor's photo saved through A
shows on every node, patients' files sent to A and to B are processed by the worker and
opened by the doctor through both, and the purge removes them from the bucket.
"""

import json
import re
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from html import unescape
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
import requests
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image

from booking.access import private_path
from booking.models import Booking, Instance, Upload
from clinic.demo import load_demo
from clinic.models import Practitioner
from clinic.staff_groups import DOCTORS, EDITORS
from tests import s3
from tests.booking.factories import BookingFactory
from tests.conftest import authenticator_for, current_code
from tests.factories import UserFactory
from tests.multinode import (
    NGINX_SITE,
    Cluster,
    Nginx,
    app_environment,
    client,
    collect_static,
    create_buckets,
    csrf_token,
    form_fields,
    log_in,
    page_text,
    redis_url,
    set_password,
    start_app_server,
    start_worker,
    wait_for,
    wait_until_serving,
)

heavy = pytest.mark.skipif(connection.vendor != "postgresql", reason="heavy: PostgreSQL pass only")
# One test process takes this module (make test runs with --dist loadgroup), so the
# servers start once, not once per process.
pytestmark = pytest.mark.xdist_group("two-nodes")
PASSWORD = "correct-horse-battery"
PROCESSING_SECONDS = 60
# Generous: `make test` runs this beside other heavy tests on a small machine.
TIMEOUT = 30
PNG = b"\x89PNG\r\n\x1a\n"
JPEG = b"\xff\xd8\xff"
WEBP = b"RIFF"


def host(url: str) -> str:
    return urlsplit(url).netloc


@pytest.fixture(scope="module")
def nodes(django_db_setup, tmp_path_factory):
    """Instances A and B, the worker and nginx, started once for this module's tests."""
    if redis_url() is None:
        pytest.skip("needs REDIS_URL: the instances share the test's Redis")
    tmp_path = tmp_path_factory.mktemp("two-nodes")
    endpoint = s3.s3_server()
    public_bucket = f"public-{uuid.uuid4().hex[:12]}"
    private_bucket = f"private-{uuid.uuid4().hex[:12]}"
    s3_environment = s3.environment(endpoint, public_bucket, private_bucket)
    static_root = tmp_path / "static"
    env = app_environment(static_root, s3_environment)
    cluster = Cluster(tmp_path)
    try:
        create_buckets(cluster, s3_environment)
        start_worker(cluster, env)
        collect_static(cluster, env, static_root)
        a = start_app_server(cluster, "app-a", env)
        b = start_app_server(cluster, "app-b", env)
        wait_until_serving(cluster, a, b)
        nginx = Nginx(cluster, [a, b])
        yield SimpleNamespace(
            cluster=cluster,
            env=env,
            a=a,
            b=b,
            nginx=nginx,
            endpoint=endpoint,
            public_bucket=public_bucket,
            private_bucket=private_bucket,
        )
    finally:
        cluster.stop()


def browser(nodes) -> requests.Session:
    """A client that trusts the test's certificate (for the pages through nginx)."""
    return client(nodes.nginx.certificate)


def served_by(nodes, name: str) -> list[str]:
    """Lines of an app server's access log for requests that came through nginx."""
    log = nodes.cluster.log_paths[name].read_text(errors="replace")
    return [line for line in log.splitlines() if 'proto="https"' in line]


# --- The shipped nginx configuration ---------------------------------------------------------


def upload_location() -> re.Pattern:
    match = re.search(r'^    location ~ "(\S+)" \{$', NGINX_SITE.read_text(), re.MULTILINE)
    assert match, "deploy/nginx.conf has no regex location for the upload URLs"
    return re.compile(match.group(1))


def test_the_upload_location_matches_every_upload_url_in_every_language(settings):
    pattern = upload_location()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            draft = reverse("booking:draft_upload")
            private = reverse("booking:private_upload", kwargs={"token": "AbC-_1.xyz:2"})
            page = reverse("booking:private", kwargs={"token": "AbC-_1.xyz:2"})
            step = reverse("booking:checklist")
        assert pattern.match(draft), f"{code}: {draft}"
        assert pattern.match(private), f"{code}: {private}"
        # Other pages keep the small body limit.
        assert not pattern.match(page), f"{code}: {page}"
        assert not pattern.match(step), f"{code}: {step}"
    assert not pattern.match("/da/")
    assert not pattern.match("/admin/clinic/practitioner/1/change/")


# --- Public media and pages ------------------------------------------------------------------


@heavy
@pytest.mark.django_db(transaction=True)
def test_an_editors_photo_saved_through_one_instance_shows_on_every_instance(nodes):
    load_demo()
    Practitioner.objects.update(photo="")  # the demo's drawing; here an editor adds a photo
    practitioner = Practitioner.objects.get()
    set_password(UserFactory(username="editor", groups=[EDITORS]), PASSWORD)
    visitor = browser(nodes)
    home = "/da/"

    # Instance B caches the home page; A serves B's copy (one shared cache).
    before = visitor.get(nodes.b + home, timeout=TIMEOUT)
    assert before.status_code == 200 and before.headers["X-Page-Cache"] == "miss"
    assert 'class="practitioner-photo"' not in before.text
    shared = visitor.get(nodes.a + home, headers={"Host": host(nodes.b)}, timeout=TIMEOUT)
    assert shared.headers["X-Page-Cache"] == "hit"

    editor = client()
    log_in(editor, nodes.a, "editor", PASSWORD)
    change_url = f"{nodes.a}/admin/clinic/practitioner/{practitioner.pk}/change/"
    form = editor.get(change_url, timeout=TIMEOUT)
    assert form.status_code == 200, page_text(form)
    descriptions = {"photo_alt_da": "Lægen i klinikken", "photo_alt_en": "The doctor"}
    fields = [
        (k, v) for k, v in form_fields(form.text, "practitioner_form") if k not in descriptions
    ]
    photo = portrait_jpeg()
    saved = editor.post(
        change_url,
        data=fields + list(descriptions.items()) + [("_save", "Save")],
        files={"photo": ("portrait.jpg", photo, "image/jpeg")},
        headers={"Referer": change_url},
        allow_redirects=False,
        timeout=30,
    )
    assert saved.status_code == 302, form_errors(saved.text)

    practitioner.refresh_from_db()
    name = practitioner.photo.name
    assert name.startswith("practitioners/portrait") and name.endswith(".jpg")
    assert name in s3.keys(nodes.endpoint, nodes.public_bucket)
    photo_url = f"{nodes.endpoint}/{nodes.public_bucket}/{name}"
    public = client().get(photo_url, timeout=TIMEOUT)
    assert public.status_code == 200 and public.content == photo

    # Every node shows it at once: the save renewed the shared page cache's version.
    for base in [nodes.a, nodes.b] + [nodes.nginx.url] * 4:
        page = visitor.get(base + home, timeout=TIMEOUT)
        assert page.status_code == 200, base
        sources = re.findall(r'<img src="([^"]+)"[^>]*class="practitioner-photo"', page.text)
        assert [unescape(src) for src in sources] == [photo_url], base
        # Browsers may load it (the policy names the bucket's origin) ...
        policy = page.headers["Content-Security-Policy"]
        img_src = next(part for part in policy.split(";") if part.strip().startswith("img-src"))
        assert nodes.endpoint in img_src.split(), policy
        # ... and search engines get its whole address.
        assert f'"image": "{photo_url}"' in unescape(page.text).replace("\\/", "/"), base
    # Nothing was written to the instances' own disks.
    for name in ("app-a", "app-b"):
        media = nodes.cluster.tmp_path / f"var-{name}" / "media"
        assert not media.exists() or not any(media.rglob("*")), name
    # nginx sent the requests round robin, with the proxy headers the app trusts.
    for name in ("app-a", "app-b"):
        lines = [line for line in served_by(nodes, name) if f'"GET {home} ' in line]
        assert lines, f"{name} got nothing through nginx:\n{nodes.cluster.logs()}"
        assert all('xff="127.0.0.1"' in line for line in lines), lines


@heavy
@pytest.mark.django_db(transaction=True)
def test_nginx_redirects_to_https_and_takes_large_bodies_only_at_the_upload_urls(nodes):
    visitor = browser(nodes)
    redirect = visitor.get(
        f"{nodes.nginx.http_url}/da/?a=1", allow_redirects=False, timeout=TIMEOUT
    )
    assert redirect.status_code == 301
    assert redirect.headers["Location"] == "https://127.0.0.1/da/?a=1"

    # A visitor's own X-Forwarded-For is kept, with the address nginx saw appended:
    # TRUSTED_PROXY_HOPS=1 makes the app take the last one.
    visitor.get(f"{nodes.nginx.url}/robots.txt", headers={"X-Forwarded-For": "203.0.113.9"})
    wait_for(
        lambda: [
            line
            for line in served_by(nodes, "app-a") + served_by(nodes, "app-b")
            if '"GET /robots.txt' in line and 'xff="203.0.113.9, 127.0.0.1"' in line
        ],
        timeout=5,
        what="the request's line in an access log",
        cluster=nodes.cluster,
    )

    booking = BookingFactory()
    page_url = nodes.nginx.url + private_path(booking)
    page = visitor.get(page_url, timeout=TIMEOUT)
    assert page.status_code == 200
    body = b"\0not an image\0" * (13 * 1024**2 // 14)  # over the site's 12m, under 1100m
    too_big = visitor.post(
        page_url,
        data={"csrfmiddlewaretoken": csrf_token(page.text)},
        files={"files": ("scan.dcm", body)},
        timeout=30,
    )
    assert too_big.status_code == 413 and "nginx" in too_big.text
    upload_url = nodes.nginx.url + private_path(booking, name="private_upload")
    refused = visitor.post(
        upload_url,
        data={"csrfmiddlewaretoken": csrf_token(page.text)},
        files={"files": ("scan.dcm", body)},
        headers={"Accept": "application/json", "Referer": page_url},
        timeout=60,
    )
    # The app read the whole body and judged the file by its content.
    assert refused.status_code == 200, refused.text[:500]
    assert refused.json()["accepted"] == []
    assert [item["name"] for item in refused.json()["refused"]] == ["scan.dcm"]
    assert not Upload.objects.filter(booking=booking).exists()


# --- Patients' files ------------------------------------------------------------------------


@heavy
@pytest.mark.django_db(transaction=True)
def test_patients_files_sent_to_both_instances_reach_the_doctor_through_both(nodes, tmp_path):
    booking = BookingFactory(language="da", imaging_status=Booking.ImagingStatus.UPLOADED)
    doctor = UserFactory(username="doctor", groups=[DOCTORS])
    set_password(doctor, PASSWORD)
    device = authenticator_for(doctor)

    patient = client()
    page_path = private_path(booking)
    upload_path = private_path(booking, name="private_upload")
    page = patient.get(nodes.a + page_path, timeout=TIMEOUT)
    assert page.status_code == 200
    token = csrf_token(page.text)
    sent = {
        nodes.a: ("cd.zip", small_cd_zip(tmp_path)),
        nodes.b: ("CT_small.dcm", loose_dicom()),
    }
    for base, (filename, content) in sent.items():
        response = patient.post(
            base + upload_path,
            data={"csrfmiddlewaretoken": token},
            files={"files": (filename, content)},
            headers={"Accept": "application/json", "Referer": base + page_path},
            timeout=60,
        )
        assert response.status_code == 200, response.text[:500]
        assert [item["name"] for item in response.json()["accepted"]] == [filename]

    uploads = Upload.objects.filter(booking=booking)
    assert sorted(uploads.values_list("original_name", flat=True)) == ["CT_small.dcm", "cd.zip"]
    stored = s3.keys(nodes.endpoint, nodes.private_bucket)
    for upload in uploads:
        assert upload.file.name in stored
        # The private bucket gives nothing to anyone without its keys.
        anonymous = client().get(
            f"{nodes.endpoint}/{nodes.private_bucket}/{upload.file.name}", timeout=TIMEOUT
        )
        assert anonymous.status_code == 403
    pending = Upload.Processing.PENDING
    wait_for(
        lambda: not uploads.filter(processing=pending).exists(),
        timeout=PROCESSING_SECONDS,
        what="the worker to process both uploads",
        cluster=nodes.cluster,
    )
    outcomes = dict(uploads.values_list("original_name", "processing"))
    assert outcomes["CT_small.dcm"] == Upload.Processing.DONE, outcomes
    # The CD holds a damaged file and its viewer program: processed, some files refused.
    assert outcomes["cd.zip"] in (Upload.Processing.DONE, Upload.Processing.PARTLY), outcomes
    # Nothing was kept on the instances' or the worker's own disks.
    for name in ("app-a", "app-b", "worker"):
        assert not stray_files(nodes.cluster.tmp_path / f"var-{name}"), name

    staff = browser(nodes)
    log_in(staff, nodes.nginx.url, "doctor", PASSWORD, code=lambda: current_code(device))
    urls = image_urls(staff, nodes.nginx.url, booking)
    images = Instance.objects.filter(series__study__booking=booking)
    previews = {url for url in urls if re.fullmatch(r"/staff/imaging/image/\d+/preview/", url)}
    assert len(previews) == images.count() > 10, urls
    opened = open_everywhere(staff, [nodes.a, nodes.b], urls)
    failures = [(url, status, head) for url, status, head in opened if status != 200 or not head]
    assert not failures, failures[:10]

    # The purge (run on any machine) empties the bucket of the booking's files.
    before = s3.keys(nodes.endpoint, nodes.private_bucket)
    assert any(key.startswith(f"bookings/{booking.pk}/") for key in before)
    long_ago = timezone.now() - timedelta(days=30)
    Booking.objects.filter(pk=booking.pk).update(
        status=Booking.Status.COMPLETED, updated_at=long_ago, ends_at=long_ago
    )
    nodes.cluster.run(
        "purge",
        [sys.executable, "manage.py", "purge_imaging", "--days", "7", "--apply"],
        {**nodes.env, "VAR_DIR": str(nodes.cluster.tmp_path / "var-purge")},
    )
    # This booking's files were the only ones in the private bucket.
    assert s3.keys(nodes.endpoint, nodes.private_bucket) == []
    assert not Upload.objects.filter(booking=booking).exists()


# --- Helpers -------------------------------------------------------------------------------


def portrait_jpeg() -> bytes:
    image = Image.new("RGB", (480, 600), (200, 170, 150))
    image.paste((60, 90, 140), (120, 150, 360, 450))
    buffer = BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def form_errors(html: str) -> str:
    errors = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.DOTALL)
    return "; ".join(re.sub(r"<[^>]+>", " ", error).strip() for error in errors) or html[:2000]


def small_cd_zip(folder: Path) -> bytes:
    """The clinical CD of tests/booking/cd_fixtures.py (every kind of study, its report,
    viewer program and damaged file), with few slices and frames, zipped as a patient would."""
    from tests.booking import cd_fixtures as cd

    sizes = {**cd.SMALL_CD, "ct_slices": 3, "us_frames": 2, "long_frames": 3}
    built = cd.build_cd(folder / "cd", **sizes)
    return cd.zip_cd(built, folder / "cd.zip").read_bytes()


def loose_dicom() -> bytes:
    from pydicom.data import get_testdata_file

    return Path(get_testdata_file("CT_small.dcm")).read_bytes()


def stray_files(var_dir: Path) -> list[Path]:
    """Patients' files left on a machine's own disk (incoming files are removed once kept)."""
    return [
        path
        for folder in ("private", "media")
        if (var_dir / folder).exists()
        for path in (var_dir / folder).rglob("*")
        if path.is_file()
    ]


def image_urls(staff: requests.Session, base: str, booking) -> list[str]:
    """Every image address the doctor's pages lead to: thumbnails, and in each series'
    viewer every image's preview, each window preset's rendition and the raw values."""
    page = staff.get(f"{base}/staff/imaging/booking/{booking.pk}/", timeout=TIMEOUT)
    assert page.status_code == 200, page.text[:500]
    urls = set(re.findall(r'src="(/staff/imaging/image/\d+/thumbnail/)"', page.text))
    urls |= set(re.findall(r'href="(/staff/imaging/(?:file|report)/\d+/preview/)"', page.text))
    series = sorted(set(re.findall(r'href="(/staff/imaging/series/\d+/)"', page.text)))
    assert series, page.text[:2000]
    for path in series:
        viewer = staff.get(base + path, timeout=TIMEOUT)
        assert viewer.status_code == 200, path
        match = re.search(
            r'<script id="viewer-data" type="application/json">(.*?)</script>',
            viewer.text,
            re.DOTALL,
        )
        data = json.loads(match.group(1))
        for pk, frame in zip(data["ids"], data["frames"], strict=True):
            preview = data["src"].replace("{id}", str(pk))
            urls.add(preview)
            urls |= {f"{preview}?preset={code}" for code in frame["windows"]}
            if frame["raw"]:
                urls.add(data["raw"].replace("{id}", str(pk)))
    return sorted(urls)


def open_everywhere(staff: requests.Session, bases: list[str], urls: list[str]):
    """(url, status, image header found) for each address, through the instances in turn.

    Each address is opened once, the next through the next instance: every instance
    serves images of files that arrived through the other, at a fraction of the time
    of opening each rendition everywhere.
    """

    def fetch(url: str):
        response = staff.get(url, timeout=TIMEOUT)
        head = response.content[:12]
        is_image = head.startswith((PNG, JPEG)) or (head.startswith(WEBP) and head[8:12] == b"WEBP")
        return url, response.status_code, is_image

    targets = [bases[n % len(bases)] + url for n, url in enumerate(urls)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(fetch, targets))
