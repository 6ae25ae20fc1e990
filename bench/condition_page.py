"""Requests per second for the neck-pain page under gunicorn (2 workers), with the page
cache on and off, beside a Django view that returns a constant response.

    .venv/bin/python bench/condition_page.py [--seconds 10] [--connections 8]

Uses a throw-away SQLite database with the demo content (or DATABASE_URL / REDIS_URL
when set). Figures depend on the machine; compare the ratios, not the absolutes.
"""

import argparse
import http.client
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hammer(args) -> int:
    port, path, deadline, headers = args
    done = 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while time.monotonic() < deadline:
        conn.request("GET", path, headers={"Host": "127.0.0.1", **headers})
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"{path} answered {response.status}")
        done += 1
    conn.close()
    return done


def measure(
    port: int, path: str, seconds: float, connections: int, headers: dict | None = None
) -> float:
    headers = headers or {}
    hammer((port, path, time.monotonic() + 1, headers))  # warm up (fills the cache)
    deadline = time.monotonic() + seconds
    with multiprocessing.Pool(connections) as pool:
        total = sum(pool.map(hammer, [(port, path, deadline, headers)] * connections))
    return total / seconds


def report(results: dict[str, float], seconds: float, connections: int) -> None:
    """Each case's rate beside the first one's (the constant view)."""
    baseline = next(iter(results.values()))
    print(f"gunicorn, 2 workers, {connections} connections, {seconds:g} s each")
    for label, rps in results.items():
        print(f"{label:<28} {rps:8.0f} req/s   {rps / baseline:5.2f} x constant")


def serve(env: dict, port: int, timeout: int = 30) -> subprocess.Popen:
    """gunicorn with 2 sync workers on `port`, once it accepts connections."""
    server = subprocess.Popen(
        [
            PY,
            "-m",
            "gunicorn",
            "clinic.wsgi",
            "--workers",
            "2",
            "--timeout",
            str(timeout),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("gunicorn did not start")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--path", default="/da/lidelser/nakkesmerter/")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as var_dir:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DEBUG": "0",
            "SECRET_KEY": "benchmark-only-" + "k" * 50,
            "ALLOWED_HOSTS": "127.0.0.1",
            "VAR_DIR": var_dir,
            "LOG_LEVEL": "WARNING",
        }
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        # Production settings serve hashed static files: they must be collected first.
        for command in (["migrate", "-v0"], ["load_demo"], ["collectstatic", "--noinput", "-v0"]):
            subprocess.run(
                [PY, "manage.py", *command],
                cwd=ROOT,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        results = {}
        for label, cache_seconds, path in [
            ("constant view", "600", "/bench/constant/"),
            ("condition page, cache on", "600", options.path),
            ("condition page, cache off", "0", options.path),
        ]:
            port = free_port()
            server = serve({**env, "PAGE_CACHE_SECONDS": cache_seconds}, port)
            try:
                results[label] = measure(port, path, options.seconds, options.connections)
            finally:
                server.terminate()
                server.wait()
        report(results, options.seconds, options.connections)


if __name__ == "__main__":
    main()
