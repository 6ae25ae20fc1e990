"""Peak memory and throughput of a 1 GB upload through booking.upload_views.handle_upload
under gunicorn (2 workers), sent by a streaming client.

    .venv/bin/python bench/upload.py [--size-mb 1024] [--timeout 600]

A throw-away SQLite database and private storage; one draft booking; one file with a
DICOM header followed by random bytes, generated while it is sent (the client never
holds it whole). The workers' peak resident memory is read from /proc (VmHWM, and
VmRSS polled while the upload runs). Figures depend on the machine and its disk.
"""

import argparse
import http.client
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.condition_page import PY, ROOT, free_port, serve  # noqa: E402

MB = 1024 * 1024
CREATE_DRAFT = (
    "from booking.models import AppointmentType, Booking;"
    "t = AppointmentType.objects.create(name='Bench', imaging='required');"
    "print(Booking.objects.create(appointment_type=t).pk)"
)


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Monitor(threading.Thread):
    """Polls the workers' VmRSS; remembers each worker's highest value."""

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.pids = pids
        self.peak_rss = dict.fromkeys(pids, 0)
        self.running = True

    def run(self):
        while self.running:
            for pid in self.pids:
                self.peak_rss[pid] = max(self.peak_rss[pid], status_kb(pid, "VmRSS"))
            time.sleep(0.02)


def dicom_header() -> bytes:
    """A 128-byte preamble, "DICM" and a minimal file meta group (explicit VR LE)."""
    uid = b"1.2.840.10008.5.1.4.1.1.7\x00"  # Secondary Capture
    element = b"\x02\x00\x02\x00UI" + len(uid).to_bytes(2, "little") + uid
    group_length = b"\x02\x00\x00\x00UL\x04\x00" + len(element).to_bytes(4, "little")
    return b"\x00" * 128 + b"DICM" + group_length + element


def body_parts(boundary: str, csrf: str, size: int):
    """(total length, generator of the multipart body in 1 MB pieces)."""
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n'
        f"{csrf}\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="files"; filename="IM000001"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    header = dicom_header()
    block = os.urandom(MB)

    def generate():
        yield head + header
        left = size - len(header)
        while left > 0:
            piece = block[: min(MB, left)]
            yield piece
            left -= len(piece)
        yield tail

    return len(head) + size + len(tail), generate()


def upload(port: int, booking_pk: int, size: int) -> tuple[float, dict]:
    csrf = secrets.token_hex(16)  # 32 characters: a valid unmasked CSRF secret
    boundary = "bench" + secrets.token_hex(12)
    length, parts = body_parts(boundary, csrf, size)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.monotonic()
    conn.putrequest("POST", f"/bench/upload/{booking_pk}/")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(length))
    conn.putheader("Accept", "application/json")
    conn.putheader("Cookie", f"csrftoken={csrf}")
    conn.putheader("X-CSRFToken", csrf)
    conn.endheaders()
    for part in parts:
        conn.send(part)
    response = conn.getresponse()
    body = response.read()
    elapsed = time.monotonic() - started
    conn.close()
    if response.status != 200:
        raise SystemExit(f"upload answered {response.status}: {body[:500]!r}")
    return elapsed, json.loads(body)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--timeout", type=int, default=600, help="gunicorn --timeout")
    options = parser.parse_args()
    size = options.size_mb * MB

    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as var_dir:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DEBUG": "0",
            "SECRET_KEY": "benchmark-only-" + "k" * 50,
            "ALLOWED_HOSTS": "127.0.0.1",
            "VAR_DIR": var_dir,
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": f"sqlite:///{var_dir}/db.sqlite3",
            "PRIVATE_STORAGE_ROOT": f"{var_dir}/private",
            "UPLOAD_MAX_FILE_BYTES": str(max(size, 1024**3)),
        }
        Path(var_dir, "static").mkdir()
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        subprocess.run(
            [PY, "manage.py", "migrate", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        booking_pk = int(
            subprocess.run(
                [PY, "manage.py", "shell", "-c", CREATE_DRAFT],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()[-1]
        )
        port = free_port()
        server = serve(env, port, options.timeout)
        try:
            time.sleep(1)
            workers = children(server.pid)
            idle = {pid: status_kb(pid, "VmRSS") for pid in workers}
            monitor = Monitor(workers)
            monitor.start()
            elapsed, result = upload(port, booking_pk, size)
            monitor.running = False
            monitor.join()
            hwm = {pid: status_kb(pid, "VmHWM") for pid in workers}
        finally:
            server.terminate()
            server.wait()
        stored = [
            p.stat().st_size for p in Path(var_dir, "private", "bookings").rglob("*") if p.is_file()
        ]
        incoming = list(Path(var_dir, "private", "incoming").iterdir())

    accepted = result["accepted"]
    if len(accepted) != 1 or accepted[0]["size"] != size or accepted[0]["kind"] != "dicom":
        raise SystemExit(f"unexpected answer: {result}")
    print(f"gunicorn, 2 sync workers; one {size / MB:.0f} MB DICOM file, streamed by the client")
    print(f"time {elapsed:.1f} s, throughput {size / MB / elapsed:.0f} MB/s")
    for pid in workers:
        print(
            f"worker {pid}: idle RSS {idle[pid] / 1024:.0f} MB, "
            f"peak RSS seen {monitor.peak_rss[pid] / 1024:.0f} MB, VmHWM {hwm[pid] / 1024:.0f} MB"
        )
    print(f"peak of the workers (VmHWM): {max(hwm.values()) / 1024:.0f} MB (limit 150 MB)")
    print(f"stored files: {stored} bytes, left in incoming/: {len(incoming)}")
    if max(hwm.values()) > 150 * 1024:
        raise SystemExit("over 150 MB")


if __name__ == "__main__":
    main()
