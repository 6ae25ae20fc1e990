"""booking/imaging/sandbox.py: each upload is processed in a child with hard limits.

The hostile behaviours come from `hostile_hook`, which the child calls with each file
before reading it (settings.IMAGING_CHILD_HOOK): a file that starts with ALLOCATE takes
memory without end, SPIN spins, WRITE writes without end, LIMITS reports the child's
own limits, QUERY tries the database. The limits are asserted on the child, as the
parent saw it (sandbox.Report), never on the test process.
"""

import os
import resource
import signal
import socket
import subprocess
import sys
import time
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.utils import translation
from pydicom.data import get_testdata_file

from booking.imaging import processing, sandbox
from booking.models import Instance, Upload
from booking.storage import incoming_dir, private_storage
from tests.booking.factories import BookingFactory

MiB = 1024 * 1024
HOOK = "tests.booking.test_sandbox.hostile_hook"

heavy = pytest.mark.skipif(connection.vendor != "postgresql", reason="heavy: PostgreSQL pass only")


def hostile_hook(path, name):
    """Runs in the child, on each file, before it is read."""
    with open(path, "rb") as handle:
        head = handle.read(16)
    if head.startswith(b"ALLOCATE"):
        held = []
        for _ in range(200):  # up to 10 GiB in 50 MiB steps, every page touched
            held.append(bytearray(b"\1" * (50 * MiB)))
            time.sleep(0.005)
    elif head.startswith(b"SPIN"):
        while True:
            pass
    elif head.startswith(b"WRITE"):
        with open(os.path.join(os.path.dirname(path), "spill"), "wb") as out:
            for _ in range(100):
                out.write(b"\0" * MiB)
                out.flush()
    elif head.startswith(b"LIMITS"):
        limits = {
            "as": resource.getrlimit(resource.RLIMIT_AS)[0],
            "fsize": resource.getrlimit(resource.RLIMIT_FSIZE)[0],
            "core": resource.getrlimit(resource.RLIMIT_CORE)[0],
            "cpu": resource.getrlimit(resource.RLIMIT_CPU)[0],
            "used": int(sum(resource.getrusage(resource.RUSAGE_SELF)[:2])),
            "pid": os.getpid(),
        }
        raise ValueError(f"LIMITS {limits!r}")
    elif head.startswith(b"QUERY"):
        from booking.models import Booking

        try:
            Booking.objects.count()
        except Exception as exc:
            raise ValueError(f"QUERY {exc}") from exc
        raise ValueError("QUERY ran")


@pytest.fixture(autouse=True)
def _private_root(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    settings.IMAGING_CHILD_HOOK = HOOK
    with translation.override("en"):
        yield


@pytest.fixture
def booking(db):
    return BookingFactory(scan_date=None, scan_modality="")


def make_upload(booking, data: bytes, kind: str, name: str) -> Upload:
    stored = private_storage().save(f"bookings/{booking.pk}/{name}", ContentFile(data))
    return Upload.objects.create(
        booking=booking, file=stored, original_name=name, size=len(data), kind=kind
    )


def zipped(tmp_path, members: list[tuple[str, bytes]]) -> bytes:
    path = tmp_path / "cd.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return path.read_bytes()


def real(name: str) -> bytes:
    """One of pydicom's bundled test files (never downloaded)."""
    path = get_testdata_file(name, download=False)
    if path is None:
        pytest.skip(f"pydicom's bundled {name} is missing")
    with open(path, "rb") as handle:
        return handle.read()


def process(upload):
    report = processing.run_processing(upload.pk)
    upload.refresh_from_db()
    return upload, report


def incoming_left():
    return sorted(p.name for p in incoming_dir().iterdir())


# --- Light: both databases ---------------------------------------------------------------


def test_real_dicom_cd_is_processed_in_one_child_with_presets_stored(booking, tmp_path):
    data = zipped(
        tmp_path,
        [("DICOM/CT", real("CT_small.dcm")), ("DICOM/MR", real("MR_small.dcm"))],
    )
    upload, report = process(make_upload(booking, data, Upload.Kind.ZIP, "cd.zip"))
    assert upload.processing == Upload.Processing.DONE, upload.processing_note
    assert [run.ended for run in report.runs] == [sandbox.FINISHED]
    assert report.runs[0].pid != os.getpid()
    ct = Instance.objects.get(upload=upload, member="DICOM/CT")
    mr = Instance.objects.get(upload=upload, member="DICOM/MR")
    from booking.imaging.services import rendition_name

    storage = private_storage()
    ct_codes = [preset["code"] for preset in ct.presets]
    assert {"soft_tissue", "bone", "lung", "brain", "spine", "auto"} <= set(ct_codes)
    for code in ct_codes:
        if code != ct.default_window:
            assert storage.exists(rendition_name(ct, code)), code
    assert "auto" in [preset["code"] for preset in mr.presets]
    assert not storage.exists(rendition_name(mr, "bone"))  # Hounsfield presets: CT only
    assert ct.raw and mr.raw  # the values for the viewer's free window
    assert incoming_left() == []


def test_the_child_runs_with_its_limits_and_never_touches_the_database(booking, settings, tmp_path):
    settings.IMAGING_CHILD_ADDRESS_SPACE_BYTES = 3 * 1024**3
    settings.IMAGING_CHILD_WRITE_BYTES = 7 * MiB
    settings.IMAGING_CHILD_CPU_SECONDS = 9
    data = zipped(tmp_path, [("limits", b"LIMITS"), ("query", b"QUERY")])
    upload, report = process(make_upload(booking, data, Upload.Kind.ZIP, "cd.zip"))
    line = next(line for line in upload.processing_note.splitlines() if "LIMITS" in line)
    limits = eval(line.split("LIMITS ", 1)[1])  # noqa: S307 - our own repr of ints
    assert limits["pid"] == report.runs[0].pid != os.getpid()
    assert limits["as"] >= 3 * 1024**3 and limits["as"] < 8 * 1024**3
    assert limits["fsize"] == 7 * MiB and limits["core"] == 0
    assert limits["used"] < limits["cpu"] <= limits["used"] + 9 + 1
    # The test process is not limited.
    assert resource.getrlimit(resource.RLIMIT_FSIZE)[0] != 7 * MiB
    # A query in the child raises; the member is refused, the parent's data intact.
    assert "query: QUERY the imaging child never uses the database" in upload.processing_note
    assert Upload.objects.filter(pk=upload.pk).exists()


def test_abandoned_work_folders_of_dead_workers_are_removed(booking, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = socket.gethostname().replace("-", "_")[:40]
    left = incoming_dir() / f"imaging-{host}-{dead.pid}-abc"
    left.mkdir()
    (left / "member").write_bytes(b"patient data")
    arriving = incoming_dir() / "upload-in-progress.part"  # an upload arriving: kept
    arriving.write_bytes(b"x")
    process(make_upload(booking, real("CT_small.dcm"), Upload.Kind.DICOM, "ct.dcm"))
    assert incoming_left() == ["upload-in-progress.part"]


# --- Heavy: PostgreSQL only -------------------------------------------------------------


@heavy
def test_a_child_past_its_memory_is_killed_and_the_next_file_processed(booking, settings, tmp_path):
    settings.IMAGING_CHILD_MEMORY_BYTES = 400 * MiB
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    data = zipped(
        tmp_path,
        [
            ("DICOM/CT1", real("CT_small.dcm")),
            ("DICOM/BOMB", b"ALLOCATE"),
            ("DICOM/CT2", real("CT_small.dcm")),
        ],
    )
    upload, report = process(make_upload(booking, data, Upload.Kind.ZIP, "cd.zip"))
    assert upload.processing == Upload.Processing.PARTLY
    assert "DICOM/BOMB: too complex to process safely." in upload.processing_note
    assert sorted(upload.instances.values_list("member", flat=True)) == ["DICOM/CT1", "DICOM/CT2"]
    killed, resumed = report.runs
    assert (killed.ended, killed.lost, killed.first) == (sandbox.MEMORY, (1, "DICOM/BOMB"), 0)
    # The child, not the test process, went past the cap, and was stopped soon after it.
    assert 400 * MiB < killed.peak_rss < 1024 * MiB
    assert (resumed.ended, resumed.first) == (sandbox.FINISHED, 2)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert after - before < 200 * MiB
    assert incoming_left() == []


@heavy
def test_a_file_that_spins_past_its_time_is_refused_and_the_next_processed(
    booking, settings, tmp_path
):
    settings.IMAGING_FILE_SECONDS = 1
    data = zipped(tmp_path, [("DICOM/SPIN", b"SPIN"), ("DICOM/CT", real("CT_small.dcm"))])
    started = time.monotonic()
    upload, report = process(make_upload(booking, data, Upload.Kind.ZIP, "cd.zip"))
    assert time.monotonic() - started < 8
    assert upload.processing == Upload.Processing.PARTLY
    assert "DICOM/SPIN: too complex to process safely." in upload.processing_note
    assert list(upload.instances.values_list("member", flat=True)) == ["DICOM/CT"]
    assert [run.ended for run in report.runs] == [sandbox.TIME, sandbox.FINISHED]


@heavy
def test_cpu_seconds_are_capped_by_the_kernel(booking, settings, tmp_path):
    settings.IMAGING_FILE_SECONDS = 60  # the parent's clock would be far too late
    settings.IMAGING_CHILD_CPU_SECONDS = 1
    data = zipped(tmp_path, [("DICOM/SPIN", b"SPIN"), ("DICOM/CT", real("CT_small.dcm"))])
    upload, report = process(make_upload(booking, data, Upload.Kind.ZIP, "cd.zip"))
    assert "DICOM/SPIN: too complex to process safely." in upload.processing_note
    assert upload.instances.count() == 1
    first = report.runs[0]
    assert first.ended == sandbox.DIED and first.lost == (0, "DICOM/SPIN")
    assert first.exitcode in (-signal.SIGXCPU, -signal.SIGKILL)


def test_writing_past_the_byte_cap_is_refused_by_the_kernel_and_leaves_nothing(
    booking, settings, tmp_path
):
    settings.IMAGING_CHILD_WRITE_BYTES = 4 * MiB
    data = zipped(tmp_path, [("DICOM/WRITE", b"WRITE"), ("DICOM/CT", real("CT_small.dcm"))])
    upload, report = process(make_upload(booking, data, Upload.Kind.ZIP, "cd.zip"))
    assert upload.processing == Upload.Processing.PARTLY
    assert "DICOM/WRITE: too complex to process safely." in upload.processing_note
    assert upload.instances.count() == 1
    # The write failed (EFBIG) at the cap: the child carried on with the next file.
    assert [run.ended for run in report.runs] == [sandbox.FINISHED]
    assert incoming_left() == []


@heavy
def test_a_single_file_upload_that_kills_its_child_is_refused_calmly(booking, settings):
    settings.IMAGING_CHILD_MEMORY_BYTES = 300 * MiB
    upload, report = process(make_upload(booking, b"ALLOCATE", Upload.Kind.DICOM, "x.dcm"))
    assert upload.processing == Upload.Processing.REFUSED
    assert upload.processing_note == "too complex to process safely."
    assert len(report.runs) == 1  # nothing left to resume
    assert incoming_left() == []
