"""Processing of patients' uploads into previews for the doctors' review.

`enqueue_processing(upload)` queues `process_upload(upload_id)` (a django-tasks task)
once the upload's row is committed. The task identifies the file by its content
(booking.filetypes.sniff_kind), and:

* DICOM: reads it (booking/imaging/dicom.py), groups images into Study / Series / Instance
  by their UIDs, one Instance (with a PNG preview, a WebP thumbnail, the values for the
  viewer's free window and a rendition per window preset) per frame; the study keeps
  whose scan it is (booking/imaging/identity.py); a structured report (SR) is kept as
  readable lines and an encapsulated PDF as a report (booking/imaging/reports.py);
* zip (a CD): checked again with booking.filetypes.check_zip, then unpacked member by
  member (addressed by index, booking/safezip.py) to a private temporary folder with
  running limits (bytes actually written, ratio, entries, time); nested archives are
  not followed (noted as refused); the DICOMDIR index and the viewer software of a CD
  are skipped quietly; a PDF on the CD is kept as a report;
* JPEG / PNG / HEIC photos: a preview with the EXIF orientation applied and no
  metadata at all (no GPS); Pillow's decompression-bomb limit stays on;
* PDF: a preview of the first page (pypdfium2; forms and JavaScript are never run),
  after booking.filetypes.check_pdf_complexity.

Every failure of one file (or zip member) is written to Upload.notes (as messages and
parameters, translated when shown; Upload.processing_note keeps them in English) and the
rest is still processed. The booking itself is only touched to fill its
scan_date / scan_modality when the patient left them empty.

The worker never reads a patient's file itself: `run_processing` runs `child_entry`
in a child process with hard limits (booking/imaging/sandbox.py). The child sends each
file's previews, and for CT the window presets of the doctors' viewer (stored
renditions: the web process never decodes), to the worker, which writes them to
storage and the database. A file whose child is killed is refused as "too complex
to process safely" and a new child goes on with the next.

The core (`process_path`) writes through a `sink`, so the benchmark
(bench/imaging.py) runs the same logic without a database or a child.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import secrets
import shutil
import time
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django_tasks import task

from booking import safezip
from booking.filetypes import (
    HEADER_BYTES,
    NESTED_ARCHIVE,
    check_pdf_complexity,
    check_zip,
    sniff_kind,
)
from booking.imaging import dicom, identity, reports, sandbox, services
from booking.imaging.notes import Note, as_note
from booking.imaging.notes import note as _
from booking.models import Booking, Instance, Report, Series, Study, Upload
from booking.storage import (
    copy_to_local,
    make_work_dir,
    private_storage,
    remove_abandoned_work_dirs,
)
from clinic.tasks import retry_later

logger = logging.getLogger(__name__)

DEFAULT_MAX_SECONDS = 600  # per upload; members left over are noted, not processed
DEFAULT_REPORT_MAX_BYTES = 50 * 1024 * 1024  # a PDF report (loose in a zip or inside DICOM)
# A file whose child was killed (memory, time, CPU) or that wrote past the byte cap.
TOO_COMPLEX = _("too complex to process safely.")


def max_seconds() -> float:
    return float(getattr(settings, "IMAGING_MAX_SECONDS", DEFAULT_MAX_SECONDS))


def report_max_bytes() -> int:
    return int(getattr(settings, "IMAGING_REPORT_MAX_BYTES", DEFAULT_REPORT_MAX_BYTES))


# --- Results --------------------------------------------------------------------


@dataclass
class Outcome:
    """What one upload gave: counts and the notes for staff."""

    images: int = 0
    reports: int = 0
    refused: list[Note] = field(default_factory=list)  # each about its file (path in the CD)
    ignored: int = 0  # CD viewer software, indexes, other non-image files
    preview: tuple[bytes, str] | None = None  # photo / PDF: (data, extension)
    notes: list[Note] = field(default_factory=list)  # informational, not refusals
    index: bool = False  # the upload is only a CD's index (DICOMDIR)

    def refuse(self, name: str, reason) -> None:
        self.refused.append(as_note(reason, name))


class Sink:
    """Receives each rendered DICOM file and each report; imaging's DB sink or the benchmark's."""

    renditions = True  # render every window preset of each frame (the viewer's presets)

    def add_dicom(self, member: str, result: dicom.RenderResult, ident=None) -> None:
        raise NotImplementedError  # pragma: no cover

    def add_report(self, member: str, info, ident, report: dict) -> None:
        """A report: {"kind": "sr"|"pdf", "title", "date", "lines", "truncated",
        "document": PDF bytes or None, "preview": WebP bytes or None, "note": Note or None}."""


# --- Photos and PDFs -----------------------------------------------------------------


def _clean_copy(image):
    """A new image with the same pixels and no metadata (EXIF, GPS, XMP, ICC, text)."""
    from PIL import Image

    if image.mode not in ("L", "RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    return clean


def photo_preview(path) -> bytes:
    """WebP preview (≤ 1024 px) of a JPEG/PNG/HEIC photo, upright, with no metadata.

    Raises ValueError with the reason.
    """
    from PIL import Image, ImageOps

    try:
        import pi_heif

        pi_heif.register_heif_opener()
    except ImportError:  # pragma: no cover - a dependency
        pass
    try:
        with warnings.catch_warnings():
            # Between MAX_IMAGE_PIXELS and twice that, Pillow only warns: refuse it too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.format == "JPEG":
                    image.draft("RGB", (dicom.PREVIEW_SIZE * 2, dicom.PREVIEW_SIZE * 2))
                upright = ImageOps.exif_transpose(image)
                upright.thumbnail((dicom.PREVIEW_SIZE, dicom.PREVIEW_SIZE))
                clean = _clean_copy(upright)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValueError(_("the image has far too many pixels to be a photo (refused).")) from exc
    except Exception as exc:
        logger.info("photo not readable: %s", exc)
        raise ValueError(_("the image could not be read (damaged or unsupported).")) from exc
    out = _bytes_io()
    clean.save(out, "WEBP", quality=85)
    return out.getvalue()


def pdf_preview(path) -> bytes:
    """WebP of the first page (≤ 1024 px). Only rendered: no forms, no JavaScript."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(str(path))
    except Exception as exc:
        raise ValueError(_("the PDF could not be opened (damaged or password-protected).")) from exc
    try:
        if len(document) == 0:
            raise ValueError(_("the PDF has no pages."))
        page = document[0]
        width, height = page.get_size()
        if not (width > 0 and height > 0):
            raise ValueError(_("the PDF's first page has no size."))
        scale = min(dicom.PREVIEW_SIZE / max(width, height), 4.0)
        bitmap = page.render(scale=scale)
        image = _clean_copy(bitmap.to_pil())
        page.close()
    except ValueError:
        raise
    except Exception as exc:
        raise ValueError(_("the PDF's first page could not be rendered.")) from exc
    finally:
        document.close()
    out = _bytes_io()
    image.save(out, "WEBP", quality=85)
    return out.getvalue()


def _bytes_io():
    return io.BytesIO()


# --- DICOM and zips ----------------------------------------------------------------


class Progress:
    """Told where processing is. In the sandbox's child it reports to the worker, which
    refuses the file a killed child was on and resumes at the next (sandbox.py)."""

    def plan(self, count: int) -> None:
        """The upload holds files 0 .. count - 1 (the members of a zip, or the one file)."""

    def begin(self, index: int, name: str) -> None:
        """File `index` is about to be unpacked and read."""

    def ready(self, path, name: str) -> None:
        """File `index` is on disk at `path` and is about to be read."""

    def end(self, index: int, outcome: Outcome) -> None:
        """File `index` is decided (its refusals and images are in `outcome`)."""


def _process_dicom(path, member: str, display: str, sink: Sink, outcome: Outcome) -> None:
    try:
        ds, info = dicom.read_header(path)
        if info.is_dicomdir:
            if member:
                outcome.ignored += 1  # the CD's index: not an image, not an error
            else:
                outcome.index = True  # sent on its own: said quietly, never a refusal
            return
        ident = identity.read_identity(ds)
        if info.kind == "sr":
            _process_sr(ds, info, ident, member, display, sink, outcome)
            return
        if info.kind == "pdf":
            _process_encapsulated_pdf(path, ds, info, ident, member, display, sink, outcome)
            return
        result = dicom.render_file(path, ds, info, renditions=getattr(sink, "renditions", True))
    except dicom.DicomError as exc:
        outcome.refuse(display, exc.reason)
        return
    sink.add_dicom(member, result, ident)
    outcome.images += len(result.frames)
    name = display or "DICOM"
    if result.sampled_from:
        outcome.notes.append(
            _("%(name)s: %(count)d of its %(total)d frames, evenly spaced, are shown.")
            % {"name": name, "count": len(result.frames), "total": result.sampled_from}
        )
    if result.skipped_frames:
        outcome.notes.append(
            _("%(name)s: %(count)d frames without a preview.")
            % {"name": name, "count": result.skipped_frames}
        )


def _process_sr(ds, info, ident, member, display, sink, outcome) -> None:
    """A structured report (SR): kept as readable lines under its study."""
    try:
        content = reports.read_sr(ds)
    except reports.ReportError as exc:
        outcome.refuse(display, exc.reason)
        return
    sink.add_report(
        member,
        info,
        ident,
        {
            "kind": "sr",
            "title": content.get("title", ""),
            "date": info.study_date,
            "lines": content.get("lines", []),
            "truncated": bool(content.get("truncated")),
            "document": None,
            "preview": None,
            "note": None,
        },
    )
    outcome.reports += 1


def _pdf_report(path: Path, title: str) -> dict:
    """A PDF report from the file at `path`: the document, and a preview of its first page
    through the safe PDF path."""
    report = {
        "kind": "pdf",
        "title": title[:200],
        "date": None,
        "lines": [],
        "truncated": False,
        "document": path.read_bytes(),
        "preview": None,
        "note": None,
    }
    try:
        check_pdf_complexity(path)
        report["preview"] = pdf_preview(path)
    except ValueError as exc:
        report["note"] = as_note(exc)
    return report


def _process_encapsulated_pdf(path, ds, info, ident, member, display, sink, outcome) -> None:
    try:
        data = reports.encapsulated_pdf(ds, max_bytes=report_max_bytes())
    except reports.ReportError as exc:
        outcome.refuse(display, exc.reason)
        return
    target = Path(path).parent / f"{secrets.token_hex(8)}.pdf"
    try:
        target.write_bytes(data)
        report = _pdf_report(target, reports.report_title(ds) or PurePosixPath(member).name)
    finally:
        target.unlink(missing_ok=True)
    report["date"] = info.study_date
    sink.add_report(member, info, ident, report)
    outcome.reports += 1


def _process_pdf_member(target: Path, name: str, written: int, sink, outcome) -> None:
    """A PDF on the CD (e.g. REPORT.PDF): a report of the upload, with no study."""
    if written > report_max_bytes():
        outcome.refuse(name, _("the PDF report is too large to keep."))
        return
    sink.add_report(name, None, None, _pdf_report(target, PurePosixPath(name).name))
    outcome.reports += 1


def _process_zip(
    path, work_dir: Path, sink: Sink, outcome: Outcome, deadline: float, start, progress
) -> None:
    try:
        check_zip(Path(path))
    except ValueError as exc:
        outcome.refuse("", exc)
        return
    budget = settings.ZIP_MAX_TOTAL_BYTES
    target = work_dir / secrets.token_hex(8)
    with zipfile.ZipFile(path) as archive:
        # Members are addressed by their position in the index, never by name
        # (two entries may share a name); the position is also where a new child resumes.
        infos = archive.infolist()
        progress.plan(len(infos))
        members = [(i, info) for i, info in enumerate(infos) if not info.is_dir()]
        for position, (index, info) in enumerate(members):
            if index < start:
                budget -= info.file_size  # what earlier children may have unpacked
                continue
            name = info.filename
            if time.monotonic() > deadline:
                outcome.refuse(
                    "",
                    _("processing stopped after the time limit; %(count)d files not read.")
                    % {"count": len(members) - position},
                )
                return
            progress.begin(index, name)
            try:
                if NESTED_ARCHIVE.search(name):
                    outcome.refuse(name, _("a zip inside the zip is not opened."))
                    continue
                base = PurePosixPath(name.replace("\\", "/")).name
                if base.upper() in ("DICOMDIR", "LOCKFILE") or info.file_size == 0:
                    outcome.ignored += 1
                    continue
                try:
                    written = safezip.extract_member(archive, info, target, budget)
                    budget -= written
                    progress.ready(target, name)
                    with open(target, "rb") as handle:
                        head = handle.read(HEADER_BYTES)
                    kind = sniff_kind(head, written)
                    if kind == "zip":
                        outcome.refuse(name, _("a zip inside the zip is not opened."))
                    elif kind == "dicom":
                        _process_dicom(target, name, name, sink, outcome)
                    elif kind == "pdf":
                        _process_pdf_member(target, name, written, sink, outcome)
                    else:
                        outcome.ignored += 1  # viewer software, autorun, reports on the CD
                except ValueError as exc:
                    outcome.refuse(name, exc)
                except Exception as exc:  # bad CRC, disk full...
                    if isinstance(exc, OSError) and exc.errno == errno.EFBIG:
                        # Past IMAGING_CHILD_WRITE_BYTES in one file (RLIMIT_FSIZE).
                        outcome.refuse(name, TOO_COMPLEX)
                    else:
                        logger.info("zip member %s unreadable: %s", name, exc)
                        outcome.refuse(name, _("the file in the zip is damaged."))
                finally:
                    target.unlink(missing_ok=True)
            finally:
                progress.end(index, outcome)
            if budget <= 0:
                outcome.refuse("", _("the zip unpacks to more than allowed; the rest is not read."))
                return


def process_path(
    path,
    sink: Sink,
    *,
    work_dir: Path,
    name: str = "",
    start: int = 0,
    deadline: float | None = None,
    progress: Progress | None = None,
    outcome: Outcome | None = None,
) -> Outcome:
    """Identify one stored file by content and process it; never raises for bad input.

    `start` skips the files before it (a zip's members by index: a new child goes on
    where a killed one stopped); `deadline` is a time.monotonic() value.
    """
    outcome = outcome if outcome is not None else Outcome()
    progress = progress or Progress()
    deadline = deadline if deadline is not None else time.monotonic() + max_seconds()
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            head = handle.read(HEADER_BYTES)
        kind = sniff_kind(head, size) if size else None
        if kind == "zip":
            _process_zip(path, work_dir, sink, outcome, deadline, start, progress)
            return outcome
        progress.plan(1)
        if start > 0:
            return outcome
        progress.begin(0, name)
        try:
            progress.ready(path, name)
            if size == 0:
                outcome.refuse(name, _("the file is empty."))
            elif kind is None:
                outcome.refuse(name, _("the content is not a DICOM image, zip, photo or PDF."))
            elif kind == "dicom":
                _process_dicom(path, "", name, sink, outcome)
            elif kind in ("jpeg", "png", "heic"):
                outcome.preview = (photo_preview(path), "webp")
            elif kind == "pdf":
                try:
                    check_pdf_complexity(path)
                    outcome.preview = (pdf_preview(path), "webp")
                except ValueError as exc:
                    outcome.notes.append(
                        _("No preview of the PDF: %(reason)s Download it to read it.")
                        % {"reason": as_note(exc)}
                    )
        finally:
            progress.end(0, outcome)
    except ValueError as exc:
        outcome.refuse(name, exc)
    except OSError as exc:
        if exc.errno == errno.EFBIG:
            outcome.refuse(name, TOO_COMPLEX)  # past IMAGING_CHILD_WRITE_BYTES
        else:
            logger.exception("upload %s could not be processed", name)
            outcome.refuse(
                name, _("the file could not be processed (%(error)s).") % {"error": "OSError"}
            )
    except Exception as exc:
        logger.exception("upload %s could not be processed", name)
        outcome.refuse(
            name, _("the file could not be processed (%(error)s).") % {"error": type(exc).__name__}
        )
    return outcome


# --- The sandbox's child ------------------------------------------------------------------


class _ChildReport(Progress, Sink):
    """In the child: sends each file's results and the outcome's growth to the worker.

    Each frame comes with its window presets rendered from the same decoded pixels
    (booking/imaging/dicom.py), so the viewer only serves stored renditions and the web
    process never decodes.
    """

    def __init__(self, reporter):
        self.reporter = reporter
        self.path = None
        self.sent = {"refused": 0, "notes": 0, "ignored": 0, "images": 0, "preview": False}
        hook = getattr(settings, "IMAGING_CHILD_HOOK", "")
        self.hook = import_string(hook) if hook else None

    def plan(self, count):
        self.reporter.plan(count)

    def begin(self, index, name):
        self.path = None
        self.reporter.begin(index, name)

    def ready(self, path, name):
        self.path = path
        if self.hook:
            self.hook(path, name)

    def end(self, index, outcome):
        self.flush(outcome)
        self.reporter.end(index)

    def flush(self, outcome: Outcome) -> None:
        sent = self.sent
        delta = {
            "refused": outcome.refused[sent["refused"] :],
            "notes": outcome.notes[sent["notes"] :],
            "ignored": outcome.ignored - sent["ignored"],
            "images": outcome.images - sent["images"],
            "preview": outcome.preview if outcome.preview and not sent["preview"] else None,
            "index": outcome.index,
        }
        sent.update(
            refused=len(outcome.refused),
            notes=len(outcome.notes),
            ignored=outcome.ignored,
            images=outcome.images,
            preview=sent["preview"] or bool(outcome.preview),
        )
        self.reporter.send(("outcome", delta))

    def add_dicom(self, member, result, ident=None):
        for frame in result.frames:
            self.reporter.send(("frame", member, result.info, frame))
        self.reporter.send(("dicom", member, result.info, ident))

    def add_report(self, member, info, ident, report):
        self.reporter.send(("report", member, info, ident, report))


def child_entry(job: dict, start: int, reporter) -> None:
    """The sandbox child's work: the upload's files from `start` on (see sandbox.run)."""
    report = _ChildReport(reporter)
    outcome = Outcome()
    process_path(
        job["path"],
        report,
        work_dir=Path(job["work_dir"]),
        name=job.get("name", ""),
        start=start,
        deadline=job["deadline"],
        progress=report,
        outcome=outcome,
    )
    report.flush(outcome)


# --- Database side -------------------------------------------------------------------


class DatabaseSink(Sink):
    """Saves previews to private storage and groups instances into studies and series.

    Frames arrive one at a time (from the sandbox's child); their files are saved at
    once and their rows written when the file is complete. A file the child was
    killed on leaves nothing: `discard_pending` deletes what was saved of it.
    """

    def __init__(self, upload):
        self.upload = upload
        self.storage = private_storage()
        self.folder = f"bookings/{upload.booking_id}/previews"
        self.studies = {}
        self.series = {}
        self.pending: list[tuple[Instance, list[str]]] = []

    def _save(self, data: bytes, ext: str) -> str:
        return self.storage.save(
            f"{self.folder}/{secrets.token_urlsafe(18)}.{ext}", ContentFile(data)
        )

    def _study(self, info: dicom.DicomInfo, ident: identity.PatientIdentity | None):
        uid = info.study_uid or "unknown"
        study = self.studies.get(uid)
        if study is not None:
            return study
        known = {
            "study_date": info.study_date,
            "modality": info.modality,
            "body_part": info.body_part,
            "description": info.study_description,
        }
        if ident is not None:
            known.update(
                patient_name=ident.pn[:200],
                patient_birth_date=ident.birth_date,
                patient_sex=ident.sex[:1],
                institution=ident.institution[:200],
                charset_note=(ident.charset_note or "")[:200],
            )
        study, created = Study.objects.get_or_create(
            booking_id=self.upload.booking_id, study_uid=uid, defaults=known
        )
        if not created:
            changed = [attr for attr, value in known.items() if value and not getattr(study, attr)]
            for attr in changed:
                setattr(study, attr, known[attr])
            if changed:
                study.save(update_fields=changed)
        if ident is not None and ident.patient_id and not services.patient_id(study):
            services.store_patient_id(study, ident.patient_id)
        self.studies[uid] = study
        return study

    def _series(self, info: dicom.DicomInfo, ident=None):
        study = self._study(info, ident)
        key = (study.pk, info.series_uid or "unknown")
        series = self.series.get(key)
        if series is None:
            series, _created = Series.objects.get_or_create(
                study=study,
                series_uid=key[1],
                defaults={
                    "number": info.series_number,
                    "modality": info.modality,
                    "body_part": info.body_part,
                    "description": info.series_description,
                },
            )
            self.series[key] = series
        return series

    def add_frame(self, member: str, info: dicom.DicomInfo, frame) -> None:
        preview = self._save(frame.preview, frame.preview_format)
        thumbnail = self._save(frame.thumbnail, frame.thumbnail_format)
        raw = self._save(frame.raw, "png") if frame.raw else ""
        names = [name for name in (preview, thumbnail, raw) if name]
        for code, png in frame.renditions.items():
            names.append(
                services.store_rendition(
                    services.rendition_path(self.upload.booking_id, preview, code), png
                )
            )
        instance = Instance(
            upload=self.upload,
            member=member[:500],
            sop_uid=info.sop_uid,
            instance_number=info.instance_number,
            frame=frame.frame,
            rows=frame.rows,
            columns=frame.columns,
            slice_position=frame.position,
            acquisition=frame.acquisition[:32],
            window_center=frame.window_center,
            window_width=frame.window_width,
            default_window=frame.default_code,
            presets=frame.presets,
            preview=preview,
            thumbnail=thumbnail,
            raw=raw,
            raw_offset=frame.raw_offset,
            raw_scale=frame.raw_scale,
            invert=frame.invert,
        )
        self.pending.append((instance, names))

    def add_instances(self, info: dicom.DicomInfo, ident=None) -> int:
        """The file's frames are all here: their rows go in. Returns how many."""
        if not self.pending:
            return 0
        series = self._series(info, ident)
        rows = [instance for instance, _names in self.pending]
        for instance in rows:
            instance.series = series
        Instance.objects.bulk_create(rows)
        self.pending = []
        return len(rows)

    def discard_pending(self) -> None:
        for _instance, names in self.pending:
            for name in names:
                self.storage.delete(name)
        self.pending = []

    def add_dicom(self, member: str, result: dicom.RenderResult, ident=None) -> None:
        for frame in result.frames:
            self.add_frame(member, result.info, frame)
        self.add_instances(result.info, ident)

    def add_report(self, member: str, info, ident, report: dict) -> None:
        study = self._study(info, ident) if info is not None else None
        document = self._save(report["document"], "pdf") if report.get("document") else ""
        preview = self._save(report["preview"], "webp") if report.get("preview") else ""
        note = report.get("note")
        Report.objects.create(
            booking_id=self.upload.booking_id,
            study=study,
            upload=self.upload,
            member=member[:500],
            kind=report["kind"],
            title=(report.get("title") or "")[:200],
            report_date=report.get("date"),
            lines=report.get("lines") or [],
            truncated=bool(report.get("truncated")),
            document=document,
            preview=preview,
            note=note.data() if isinstance(note, Note) else None,
        )

    def finish(self):
        for series in Series.objects.filter(pk__in=[s.pk for s in self.series.values()]).annotate(
            n=Count("instances")
        ):
            Series.objects.filter(pk=series.pk).update(image_count=series.n)


class UploadHandler(sandbox.Handler):
    """The worker's side of the sandbox: writes what the child sends, refuses what killed it."""

    def __init__(self, upload, outcome: Outcome):
        self.sink = DatabaseSink(upload)
        self.outcome = outcome

    def message(self, payload) -> None:
        kind = payload[0]
        if kind == "frame":
            _kind, member, info, frame = payload
            self.sink.add_frame(member, info, frame)
        elif kind == "dicom":
            # Counted from the rows written, not from the child's word.
            self.outcome.images += self.sink.add_instances(payload[2], payload[3])
        elif kind == "report":
            _kind, member, info, ident, report = payload
            self.sink.add_report(member, info, ident, report)
            self.outcome.reports += 1
        elif kind == "outcome":
            delta = payload[1]
            self.outcome.refused += [as_note(item) for item in delta["refused"]]
            self.outcome.notes += [as_note(item) for item in delta["notes"]]
            self.outcome.ignored += delta["ignored"]
            self.outcome.index = self.outcome.index or delta.get("index", False)
            if delta["preview"]:
                self.outcome.preview = delta["preview"]

    def file_lost(self, index: int, name: str, why: str) -> None:
        self.sink.discard_pending()
        self.outcome.refuse(name, TOO_COMPLEX)

    def rest_lost(self, next_index: int, why: str) -> None:
        self.sink.discard_pending()
        self.outcome.refuse("", _("the file is too complex to process safely."))


def _forget_previous(upload) -> None:
    """A rerun (retry) starts clean: this upload's previews, renditions, reports and rows go."""
    storage = private_storage()
    for instance in upload.instances.all():
        names = [instance.preview.name, instance.thumbnail.name, instance.raw.name]
        if instance.preview.name:
            names += [
                services.rendition_path(upload.booking_id, instance.preview.name, preset.code)
                for preset in services.instance_presets(instance)
            ]
        for name in names:
            if name and storage.exists(name):
                storage.delete(name)
    for report in upload.reports.all():
        for name in (report.document.name, report.preview.name):
            if name:
                storage.delete(name)
    upload.instances.all().delete()
    upload.reports.all().delete()
    Series.objects.filter(study__booking_id=upload.booking_id, instances__isnull=True).delete()
    Study.objects.filter(
        booking_id=upload.booking_id, series__isnull=True, reports__isnull=True
    ).delete()
    if upload.preview:
        storage.delete(upload.preview.name)
        upload.preview = ""


def fill_scan_details(booking_id: int) -> None:
    """The most recent study's date and modality fill the booking's empty scan fields.

    A study whose patient differs from the booking's never sets them.
    """
    with transaction.atomic():
        booking = Booking.objects.select_for_update().get(pk=booking_id)
        studies = Study.objects.filter(booking_id=booking_id, study_date__isnull=False).order_by(
            "-study_date", "pk"
        )
        study = next((s for s in studies if not s.differs_from(booking)), None)
        if study is None:
            return
        changed = []
        if booking.scan_date is None:
            booking.scan_date = study.study_date
            changed.append("scan_date")
        modality = dicom.modality_choice(study.modality)
        if not booking.scan_modality and modality:
            booking.scan_modality = modality
            changed.append("scan_modality")
        if changed:
            booking.save(update_fields=[*changed, "updated_at"])


WORK_PREFIX = "imaging-"


def run_sandboxed(path, work_dir: Path, handler: sandbox.Handler) -> sandbox.Report:
    """Process the stored file at `path` in sandboxed children (booking/imaging/sandbox.py)."""
    job = {
        "path": str(path),
        "work_dir": str(work_dir),
        "name": "",
        "deadline": time.monotonic() + max_seconds(),
    }

    def empty_work_dir():
        # A killed child leaves the member it was unpacking: patient data, removed now.
        for entry in work_dir.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)

    return sandbox.run(CHILD_ENTRY, job, handler, between_children=empty_work_dir)


CHILD_ENTRY = "booking.imaging.processing.child_entry"


def run_processing(upload_id: int) -> sandbox.Report | None:
    """The body of process_upload: process one Upload and record the outcome on it.

    Returns what the sandbox's children did (None when nothing was run).
    """
    upload = Upload.objects.filter(pk=upload_id).first()
    if upload is None or not upload.file:
        return None
    _forget_previous(upload)
    remove_abandoned_work_dirs(WORK_PREFIX, older_than=max_seconds() * 4)
    outcome = Outcome()
    handler = UploadHandler(upload, outcome)
    sink = handler.sink
    job_dir = make_work_dir(WORK_PREFIX)
    try:
        # The children read a copy on this machine's disk, wherever the file is kept,
        # and unpack into a folder of their own (emptied when a child is killed).
        path = copy_to_local(private_storage(), upload.file.name, job_dir)
        report = None
        if path is None:
            outcome.refuse("", _("the stored file is missing."))
        else:
            unpacked = job_dir / "unpacked"
            unpacked.mkdir(mode=0o750)
            report = run_sandboxed(path, unpacked, handler)
        sink.finish()
    finally:
        shutil.rmtree(job_dir, ignore_errors=True)

    if outcome.preview:
        data, ext = outcome.preview
        upload.preview = sink._save(data, ext)
    used = outcome.images or outcome.reports or outcome.preview is not None or outcome.index
    if outcome.refused and used:
        upload.processing = Upload.Processing.PARTLY
    elif outcome.refused or (not used and upload.kind != Upload.Kind.PDF):
        upload.processing = Upload.Processing.REFUSED
    else:
        upload.processing = Upload.Processing.DONE
    notes: list[Note] = []
    if upload.processing == Upload.Processing.REFUSED and not outcome.refused:
        notes.append(_("No image was found in this file."))
    notes += outcome.refused[:200]
    if len(outcome.refused) > 200:
        notes.append(_("... and %(count)d more refused.") % {"count": len(outcome.refused) - 200})
    notes += outcome.notes
    if outcome.index:
        notes.append(_("This is the CD's index (DICOMDIR): it holds no images and is not needed."))
    if outcome.ignored:
        notes.append(
            _("%(count)d other files (CD index, viewer software) were skipped.")
            % {"count": outcome.ignored}
        )
    upload.notes = [note.data() for note in notes]
    with translation.override("en"):
        upload.processing_note = "\n".join(str(note) for note in notes)
    upload.processed_at = timezone.now()
    upload.save(update_fields=["processing", "processing_note", "notes", "processed_at", "preview"])
    if outcome.images or outcome.reports:
        fill_scan_details(upload.booking_id)
    return report


@task(queue_name="imaging")
def process_upload(upload_id: int, attempt: int = 1) -> None:
    """Make the previews of one upload (see the module's docstring)."""
    try:
        run_processing(upload_id)
    except Exception as error:  # database or disk trouble: bad input never raises
        if not retry_later(process_upload, upload_id, attempt=attempt, error=error):
            give_up(upload_id)
            raise


def give_up(upload_id: int, *args, **kwargs) -> None:
    """Processing was given up for good (it failed, or its worker died, too often).

    The upload no longer says "waiting to be processed": it is refused with a note the
    doctors see (the original file stays for download), so nobody waits for previews
    that will not come. Called by process_upload and, for a worker that kept dying, by
    clinic.worker (settings.TASK_GIVE_UP_HANDLERS).
    """
    note = _("the file could not be processed after several tries; download it to look at it.")
    with translation.override("en"):
        english = str(note)
    Upload.objects.filter(pk=upload_id, processing=Upload.Processing.PENDING).update(
        processing=Upload.Processing.REFUSED,
        notes=[note.data()],
        processing_note=english,
        processed_at=timezone.now(),
    )


def enqueue_processing(upload) -> None:
    """Queue process_upload for this upload once its row is committed."""
    upload_id = upload.pk
    transaction.on_commit(lambda: process_upload.enqueue(upload_id))
