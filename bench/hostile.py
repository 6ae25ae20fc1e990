"""A hostile corpus through the real processing path: memory, time and the message queue.

    .venv/bin/python bench/hostile.py [--keep FOLDER]

Builds 30+ hostile files in a temporary folder (zip bombs for every compression
method, lying and overlapping zip indexes, duplicate names, a deflated DICOM that
inflates to 1 GiB, DICOM headers that lie about the image size, nested PDF drawings,
truncated files, wrong extensions, polyglots, deep and long names...), makes an Upload
of each on a throw-away SQLite database and runs the imaging task's entry point
(`process_upload`) on each, one after the other, as the imaging worker does.

Meanwhile a second process plays the message worker: every 100 ms it runs a
deliver_message-like task (one query, one e-mail on the locmem backend) and records
how late it ran; its figures before the imaging work and during it are compared.

Prints a table: each file's decision and time, and the peak resident memory of every
process (this process, the imaging worker; each sandboxed child, as polled by the
worker; the fork server; the message process). Targets: every process at or under
1 GiB, every file decided within IMAGING_FILE_SECONDS, message latency unchanged.
"""

import argparse
import bz2
import io
import multiprocessing
import os
import resource
import statistics
import struct
import sys
import tempfile
import threading
import time
import zipfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MiB = 1024 * 1024
GiB = 1024 * MiB


# --- Builders --------------------------------------------------------------------------


def ct(size=64) -> bytes:
    from tests.booking.dicom_fixtures import ct_dataset, to_bytes

    return to_bytes(ct_dataset(size))


def zip_of(members, method=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return out.getvalue()


def zeros_bomb(method: int, size: int) -> bytes:
    """A zip of one member of `size` zero bytes, compressed in streaming (never held)."""
    out = io.BytesIO()
    chunk = b"\0" * (8 * MiB)
    info = zipfile.ZipInfo("DICOM/IM0001")
    info.compress_type = method
    with (
        zipfile.ZipFile(out, "w", method) as archive,
        archive.open(info, "w", force_zip64=True) as member,
    ):
        for _ in range(size // len(chunk)):
            member.write(chunk)
    return out.getvalue()


def _raw_bomb(method: int, size: int) -> bytes:
    """Raw compressed bytes of `size` zeros for a zip entry of `method`."""
    chunk = b"\0" * (8 * MiB)
    if method == zipfile.ZIP_BZIP2:
        engine = bz2.BZ2Compressor(9)
        data = b"".join(engine.compress(chunk) for _ in range(size // len(chunk)))
        return data + engine.flush()
    engine = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = b"".join(engine.compress(chunk) for _ in range(size // len(chunk)))
    return data + engine.flush()


def lying_zip(method: int, real_size: int, declared: int) -> bytes:
    """One member that unpacks to `real_size` while both headers declare `declared` bytes."""
    data = _raw_bomb(method, real_size)
    crc = 0
    name = b"DICOM/IM0001"
    local = struct.pack(
        "<4s5H3L2H", b"PK\x03\x04", 46, 0, method, 0, 0, crc, len(data), declared, len(name), 0
    )
    central = struct.pack(
        "<4s6H3L5H2L",
        b"PK\x01\x02",
        46,
        46,
        0,
        method,
        0,
        0,
        crc,
        len(data),
        declared,
        len(name),
        0,
        0,
        0,
        0,
        0,
        0,
    )
    body = local + name + data
    directory = central + name
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(directory), len(body), 0)
    return body + directory + end


def overlapping_zip(count: int) -> bytes:
    """`count` index entries, different names, all pointing at one deflated 64 MiB member."""
    single = zeros_bomb(zipfile.ZIP_DEFLATED, 64 * MiB)
    end_at = single.rfind(b"PK\x05\x06")
    dir_at = struct.unpack("<L", single[end_at + 16 : end_at + 20])[0]
    record = single[dir_at:end_at]
    # The record may carry zip64 extras; keep it whole, only the name changes.
    name_length = struct.unpack("<H", record[28:30])[0]
    fixed, rest = record[:46], record[46 + name_length :]
    directory = b""
    for n in range(count):
        name = f"DICOM/IM{n:04d}".encode()
        directory += fixed[:28] + struct.pack("<H", len(name)) + fixed[30:46] + name + rest
    body = single[:dir_at]
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(directory), len(body), 0)
    return body + directory + end


def patch_method(data: bytes, method: int) -> bytes:
    """Rewrite the compression method of a one-member zip (both headers)."""
    data = bytearray(data)
    struct.pack_into("<H", data, 8, method)
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<H", data, central + 10, method)
    return bytes(data)


def dicom_with(meta_ts, **tags):
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = meta_ts
    ds = FileDataset("x.dcm", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = "CT"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    for key, value in tags.items():
        setattr(ds, key, value)
    return ds


def save(ds) -> bytes:
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def deflated_dicom(inflated: int) -> bytes:
    """Deflated Explicit VR Little Endian whose pixel data inflates to `inflated` bytes."""
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    ds = dicom_with(DeflatedExplicitVRLittleEndian, Rows=64, Columns=64)
    data = save(ds)
    group_length = struct.unpack("<L", data[132 + 8 : 132 + 12])[0]
    meta_end = 132 + 12 + group_length
    body = zlib.decompress(data[meta_end:], -15)
    engine = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts = [engine.compress(body + struct.pack("<HH2sHL", 0x7FE0, 0x0010, b"OB", 0, inflated))]
    chunk = b"\0" * (8 * MiB)
    parts += [engine.compress(chunk) for _ in range(inflated // len(chunk))]
    return data[:meta_end] + b"".join(parts) + engine.flush()


def small_header_big_pixels(pixel_bytes: int) -> bytes:
    """Uncompressed: the header says 64 x 64, the pixel data holds `pixel_bytes`."""
    from pydicom.uid import ExplicitVRLittleEndian

    ds = dicom_with(ExplicitVRLittleEndian, Rows=64, Columns=64)
    ds.PixelData = b"\0" * 16
    data = save(ds)
    at = data.rfind(b"\xe0\x7f\x10\x00")  # then VR, 2 reserved bytes, the 32-bit length
    return data[: at + 8] + struct.pack("<L", pixel_bytes) + b"\1" * pixel_bytes


def encapsulated(codestream: bytes, ts, rows=64, columns=64) -> bytes:
    from pydicom.encaps import encapsulate

    ds = dicom_with(ts, Rows=rows, Columns=columns)
    ds.PixelData = encapsulate([codestream])
    ds["PixelData"].VR = "OB"
    return save(ds)


def pillow_bytes(size, fmt, **options) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", size, 0).save(out, fmt, **options)
    return out.getvalue()


def stream(body: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n" % (len(body), extra) + body + b"\nendstream"


def nested_pdf(levels=12, fan=10) -> bytes:
    """Each form draws the next `fan` times, `levels` deep: fan**levels drawings."""
    first_form = 5
    draws = b" ".join(b"/F Do" for _ in range(fan))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 400] /Contents 4 0 R "
        b"/Resources << /XObject << /F %d 0 R >> >> >>" % first_form,
        stream(draws),
    ]
    for level in range(levels):
        number = first_form + level
        if level == levels - 1:
            body, resources = b"0 0 1 1 re f", b""
        else:
            body, resources = draws, b"/Resources << /XObject << /F %d 0 R >> >>" % (number + 1)
        objects.append(
            stream(body, b"/Type /XObject /Subtype /Form /BBox [0 0 400 400] " + resources)
        )
    from tests.booking.dicom_fixtures import pdf_of

    return pdf_of(objects)


def huge_image_pdf() -> bytes:
    data = zlib.compress(b"\0" * 100_000)
    from tests.booking.dicom_fixtures import pdf_of

    return pdf_of(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 400] /Contents 4 0 R "
            b"/Resources << /XObject << /I 5 0 R >> >> >>",
            stream(b"q 400 0 0 400 0 0 cm /I Do Q"),
            stream(
                data,
                b"/Type /XObject /Subtype /Image /Width 60000 /Height 60000 "
                b"/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode",
            ),
        ]
    )


def corpus(folder: Path) -> list[tuple[str, str]]:
    """Writes the hostile files; returns (file name, what it is)."""
    from pydicom.uid import JPEG2000Lossless, JPEGBaseline8Bit

    from tests.booking.dicom_fixtures import bundled
    from tests.booking.test_imaging import pdf_bytes, png_bomb

    good = ct()
    jpeg_big = pillow_bytes((8000, 8000), "JPEG", quality=10)
    deflated = deflated_dicom(GiB)
    files = [
        ("ok-ct.dcm", "a good CT slice (control)", good),
        ("bomb-deflate.zip", "deflate zip bomb, 1 GiB of zeros", zeros_bomb(8, GiB)),
        ("bomb-bzip2.zip", "bzip2 zip bomb, 1 GiB of zeros", zeros_bomb(12, GiB)),
        ("bomb-lzma.zip", "LZMA zip bomb, 512 MiB of zeros", zeros_bomb(14, 512 * MiB)),
        (
            "lying-deflate.zip",
            "deflate member, index says 100 B, 256 MiB",
            lying_zip(8, 256 * MiB, 100),
        ),
        (
            "lying-bzip2.zip",
            "bzip2 member, index says 100 B, 512 MiB",
            lying_zip(12, 512 * MiB, 100),
        ),
        ("overlap-100.zip", "100 entries pointing at one 64 MiB member", overlapping_zip(100)),
        (
            "duplicate-names.zip",
            "two members named IM1: a CT, then a bomb",
            zip_of([("DICOM/IM1", good), ("DICOM/IM1", b"\0" * (64 * MiB))]),
        ),
        (
            "nested.zip",
            "a zip in a zip in a zip",
            zip_of([("in.zip", zip_of([("in2.zip", zip_of([("a.dcm", good)]))]))]),
        ),
        (
            "entries-10050.zip",
            "10,050 entries (over the entry limit)",
            zip_of([(f"f{n}", b"") for n in range(10_050)], zipfile.ZIP_STORED),
        ),
        (
            "traversal.zip",
            "a member named ../../etc/cron.d/x",
            zip_of([("../../etc/cron.d/x", good)]),
        ),
        ("password.zip", "the encrypted flag set", _encrypted(zip_of([("DICOM/IM1", good)]))),
        (
            "method-ppmd.zip",
            "an unsupported compression method (PPMd)",
            patch_method(zip_of([("DICOM/IM1", good)]), 98),
        ),
        (
            "truncated.zip",
            "a CD zip cut in half",
            zip_of([(f"DICOM/IM{n}", ct()) for n in range(4)])[:9000],
        ),
        ("deep.zip", "a member 300 folders deep", zip_of([("d/" * 300 + "IM1", good)])),
        ("long-name.zip", "a member with a 4,000-character name", zip_of([("n" * 4000, good)])),
        ("dicom-deflated.dcm", "deflated DICOM inflating to 1 GiB", deflated),
        (
            "cd-mixed.zip",
            "a CD: CT, the deflated DICOM, a JPEG DICOM that lies, CT",
            zip_of(
                [
                    ("DICOM/IM1", good),
                    ("DICOM/IM2", deflated),
                    ("DICOM/IM3", encapsulated(jpeg_big, JPEGBaseline8Bit)),
                    ("DICOM/IM4", ct()),
                ],
                zipfile.ZIP_STORED,  # stored: the index's ratio cannot refuse it early
            ),
        ),
        (
            "dicom-64x64-64MiB.dcm",
            "header 64 x 64, 64 MiB of pixel data",
            small_header_big_pixels(64 * MiB),
        ),
        (
            "dicom-jpeg-8000.dcm",
            "JPEG DICOM: header 64 x 64, JPEG 8000 x 8000",
            encapsulated(jpeg_big, JPEGBaseline8Bit),
        ),
        (
            "dicom-j2k-4000.dcm",
            "JPEG 2000 DICOM: header 64 x 64, codestream 4000 x 4000",
            encapsulated(
                pillow_bytes((4000, 4000), "JPEG2000", irreversible=False, no_jp2=True),
                JPEG2000Lossless,
            ),
        ),
        (
            "dicom-huge-header.dcm",
            "header 60000 x 60000 x 300 frames",
            save(
                dicom_with(
                    "1.2.840.10008.1.2.1",
                    Rows=60000,
                    Columns=60000,
                    NumberOfFrames=300,
                    PixelData=b"\0" * 16,
                )
            ),
        ),
        (
            "dicom-truncated.dcm",
            "a DICOM cut off in its pixel data",
            bundled("MR_truncated.dcm").read_bytes(),
        ),
        ("dicomdir.dcm", "a CD's DICOMDIR alone", bundled("dicomdirtests/DICOMDIR").read_bytes()),
        ("pdf-nested.pdf", "forms drawing forms: 10^12 drawings in 3 KB", nested_pdf()),
        ("pdf-huge-image.pdf", "an image of 60000 x 60000 in 100 KB", huge_image_pdf()),
        (
            "pdf-javascript.pdf",
            "a PDF that asks to run JavaScript",
            pdf_bytes(javascript="app.alert(1)"),
        ),
        ("pdf-truncated.pdf", "a PDF cut in half", nested_pdf(3, 2)[:300]),
        ("png-bomb.png", "PNG header 100000 x 100000", png_bomb()),
        ("jpeg-huge.jpg", "JPEG 8000 x 8000 (64 Mpx) in a few KB", jpeg_big),
        ("jpeg-truncated.jpg", "a JPEG cut off", pillow_bytes((2000, 2000), "JPEG")[:2000]),
        ("zip-as.dcm", "a zip bomb named .dcm", zeros_bomb(8, 256 * MiB)),
        ("dicom-as.jpg", "a DICOM named .jpg", good),
        (
            "pdf-zip-polyglot.pdf",
            "a PDF with a zip bomb appended",
            pdf_bytes() + zeros_bomb(8, 256 * MiB),
        ),
        (
            "pdf-padded.pdf",
            "a one-page PDF padded to 256 MiB",
            pdf_bytes() + b"\0" * (256 * MiB) + b"\n%%EOF\n",
        ),
        ("dicom-zip-polyglot.dcm", "DICOM preamble holding a zip header", b"PK\x03\x04" + good[4:]),
        (
            "heic-broken.heic",
            "a HEIC box with no image",
            b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 200,
        ),
        ("empty.dcm", "an empty file", b""),
        ("random.bin", "1 MiB of random bytes", os.urandom(MiB)),
    ]
    for name, _what, data in files:
        (folder / name).write_bytes(data)
    return [(name, what) for name, what, _data in files]


def build_corpus(folder: str):
    import django

    django.setup()
    return corpus(Path(folder))


def _encrypted(data: bytes) -> bytes:
    data = bytearray(data)
    struct.pack_into("<H", data, 6, 1)
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<H", data, central + 8, 1)
    return bytes(data)


# --- The message worker's stand-in ------------------------------------------------------------


def message_worker(stop, results) -> None:
    """Every 100 ms, a deliver_message-like task: how late did it finish?"""
    import django

    django.setup()
    from django.core import mail

    from booking.models import Booking

    latencies = []
    due = time.monotonic()
    while not stop.is_set():
        due += 0.1
        while time.monotonic() < due:
            time.sleep(0.005)
        Booking.objects.count()
        mail.send_mail("Bench", "A message.", "clinic@example.com", ["p@example.com"])
        latencies.append((due, time.monotonic() - due))
    results.put((latencies, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024))


# --- Memory of every process -----------------------------------------------------------------


class Monitor(threading.Thread):
    """Polls the resident memory of this process and every descendant; keeps each peak."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peaks: dict[int, tuple[str, int]] = {}
        self.kinds: dict[int, str] = {}
        self.running = True

    def run(self):
        import psutil

        me = psutil.Process()
        while self.running:
            for process in [me, *me.children(recursive=True)]:
                try:
                    rss = process.memory_info().rss
                    if process.pid not in self.kinds:
                        command = " ".join(process.cmdline())
                        if process.pid == me.pid:
                            kind = "imaging worker"
                        elif "forkserver" in command:
                            parent = process.ppid()
                            kind = "fork server" if parent == me.pid else "sandboxed child"
                        elif "spawn" in command:
                            kind = "message worker"
                        elif "resource_tracker" in command:
                            kind = "resource tracker"
                        else:
                            kind = process.name()
                        self.kinds[process.pid] = kind
                    label = self.kinds[process.pid]
                except psutil.Error:
                    continue
                old = self.peaks.get(process.pid, (label, 0))
                self.peaks[process.pid] = (old[0], max(old[1], rss))
            time.sleep(0.05)


def run_corpus(folder: Path, names) -> tuple[list, list]:
    from django.conf import settings
    from django.core.files import File

    from booking.filetypes import HEADER_BYTES, sniff_kind
    from booking.imaging import processing
    from booking.models import AppointmentType, Booking, Upload
    from booking.storage import incoming_dir, private_storage

    kind = AppointmentType.objects.create(name="Bench", imaging="required")
    booking = Booking.objects.create(appointment_type=kind)
    rows = []
    reports = []
    storage = private_storage()
    for name, what in names:
        path = folder / name
        with open(path, "rb") as handle:
            sniffed = sniff_kind(handle.read(HEADER_BYTES), path.stat().st_size)
        with open(path, "rb") as handle:
            stored = storage.save(f"bookings/{booking.pk}/{name}", File(handle))
        upload = Upload.objects.create(
            booking=booking,
            file=stored,
            original_name=name,
            size=path.stat().st_size,
            kind=sniffed or Upload.Kind.DICOM,
        )
        captured = {}
        original = processing.run_processing

        def keep_report(upload_id, _original=original, captured=captured):
            captured["report"] = _original(upload_id)
            return captured["report"]

        processing.run_processing = keep_report
        started = time.perf_counter()
        try:
            processing.process_upload.enqueue(upload.pk)  # the immediate backend: runs now
        finally:
            processing.run_processing = original
        seconds = time.perf_counter() - started
        upload.refresh_from_db()
        report = captured.get("report")
        reports.append((name, report))
        note = upload.processing_note.splitlines()
        rows.append(
            (
                name,
                what,
                path.stat().st_size,
                upload.processing,
                seconds,
                report,
                note[0] if note else "",
            )
        )
        storage.delete(stored)
    leftovers = list(incoming_dir().iterdir())
    return rows, [settings.IMAGING_FILE_SECONDS, leftovers]


def human(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", help="build the corpus in this folder and keep it")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as var_dir:
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "bench.settings",
                "DEBUG": "0",
                "SECRET_KEY": "benchmark-only-" + "k" * 50,
                "ALLOWED_HOSTS": "127.0.0.1",
                "VAR_DIR": var_dir,
                "LOG_LEVEL": "CRITICAL",
                "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
                "SMS_BACKEND": "booking.sms.LocmemBackend",
                "TASKS_BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
                "BOOKING_QUIET_HOURS": "",
            }
        )
        Path(var_dir, "static").mkdir()
        import django
        from django.core.management import call_command
        from django.utils import translation

        django.setup()
        call_command("migrate", verbosity=0)
        translation.activate("en")
        folder = Path(options.keep or Path(var_dir, "corpus"))
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        spawn = multiprocessing.get_context("spawn")
        # Built in another process, so this one (the imaging worker) starts small.
        with spawn.Pool(1) as pool:
            names = pool.apply(build_corpus, (str(folder),))
        print(f"corpus: {len(names)} files in {time.perf_counter() - started:.1f} s ({folder})")

        monitor = Monitor()
        monitor.start()
        results = spawn.Queue()
        stop = spawn.Event()
        baseline_seconds = 3.0
        messages = spawn.Process(target=message_worker, args=(stop, results))
        messages.start()
        time.sleep(2.0 + baseline_seconds)  # its start-up, then a quiet baseline
        imaging_started = time.monotonic()
        rows, (file_limit, leftovers) = run_corpus(folder, names)
        imaging_ended = time.monotonic()
        stop.set()
        latencies, messages_peak = results.get(timeout=120)
        messages.join(10)
        monitor.running = False
        monitor.join()

    before = [lat for due, lat in latencies if due < imaging_started]
    during = [lat for due, lat in latencies if imaging_started <= due <= imaging_ended]
    width = max(len(row[0]) for row in rows)
    print()
    print(
        f"{'file':<{width}}  {'size':>9}  {'decision':<8}  {'time':>6}  children  "
        "child peak  what: first line of the note"
    )
    for name, what, size, decision, seconds, report, note in rows:
        runs = report.runs if report else []
        ends = ",".join(run.ended for run in runs if run.ended != "finished")
        peak = max((run.peak_rss for run in runs), default=0)
        print(
            f"{name:<{width}}  {human(size):>9}  {decision:<8}  {seconds:5.1f}s  "
            f"{len(runs):>3} {ends:<5}  {human(peak):>9}  {what}: {note[:90]}"
        )
    print()
    slowest = max(rows, key=lambda row: row[4])
    child_peak = max(
        (run.peak_rss for _n, _w, _s, _d, _t, r, _no in rows if r for run in r.runs), default=0
    )
    print(
        f"files: {len(rows)}; decided: {sum(1 for r in rows if r[3] != 'pending')}; "
        f"slowest: {slowest[0]} {slowest[4]:.1f} s (per-file limit {file_limit} s)"
    )
    print("peak resident memory by process:")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"  imaging worker (this process, ru_maxrss)      {human(own):>9}")
    print(f"  sandboxed children (highest, polled)          {human(child_peak):>9}")
    by_kind = {}
    for _pid, (label, rss) in monitor.peaks.items():
        count, peak = by_kind.get(label, (0, 0))
        by_kind[label] = (count + 1, max(peak, rss))
    for label, (count, peak) in sorted(by_kind.items()):
        print(f"  {label + f' ({count} seen by the monitor)':<46}{human(peak):>9}")
    print(f"  message worker (ru_maxrss)                    {human(messages_peak):>9}")
    print(f"incoming/ left behind: {len(leftovers)} entries")

    def figures(values):
        if not values:
            return "no samples"
        values = sorted(values)
        p95 = values[int(len(values) * 0.95) - 1] if len(values) > 1 else values[0]
        return (
            f"{len(values)} tasks, median {statistics.median(values) * 1000:.1f} ms, "
            f"p95 {p95 * 1000:.1f} ms, max {values[-1] * 1000:.1f} ms"
        )

    print("message queue latency (a deliver_message-like task every 100 ms, another process):")
    print(f"  before the imaging work: {figures(before)}")
    print(f"  during the imaging work: {figures(during)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
