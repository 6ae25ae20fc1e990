"""Benchmark of upload processing: a zipped CD of 300 CT images of 512 x 512.

    .venv/bin/python bench/imaging.py [--count 300]

Runs booking.imaging.processing.process_path (the logic of process_upload, without the
database) in this one process, writing previews to a temporary folder, and
prints the wall time (target < 60 s on one core) and the peak memory
(ru_maxrss, target < 300 MB).
"""

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings.test")


class FolderSink:
    """Writes previews to a folder, as DatabaseSink writes them to private storage."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.files = 0
        self.bytes = 0

    def add_dicom(self, member, result):
        for frame in result.frames:
            for data, ext in ((frame.preview, "png"), (frame.thumbnail, "webp")):
                self.files += 1
                self.bytes += len(data)
                (self.folder / f"{self.files}.{ext}").write_bytes(data)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()

    import django

    django.setup()
    from booking.imaging.processing import process_path
    from tests.booking.dicom_fixtures import ct_cd_zip

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        started = time.perf_counter()
        archive = ct_cd_zip(tmp / "cd.zip", args.count)
        made = time.perf_counter() - started
        print(
            f"zip of {args.count} CT images: {archive.stat().st_size / 1e6:.1f} MB in {made:.1f} s"
        )
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        (tmp / "work").mkdir()
        (tmp / "out").mkdir()
        sink = FolderSink(tmp / "out")
        started = time.perf_counter()
        cpu = time.process_time()
        outcome = process_path(archive, sink, work_dir=tmp / "work")
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"images: {outcome.images}, refused: {len(outcome.refused)}, skipped: {outcome.ignored}")
    print(f"previews written: {sink.files} files, {sink.bytes / 1e6:.1f} MB")
    print(f"processing wall time: {wall:.1f} s (CPU {cpu:.1f} s; target < 60 s)")
    print(
        f"peak memory (ru_maxrss): {peak:.0f} MB "
        f"(before processing {rss_before:.0f} MB; target < 300 MB)"
    )
    return 0 if outcome.images == args.count and not outcome.refused else 1


if __name__ == "__main__":
    sys.exit(main())
