"""Requests per second for the neck-pain page through nginx (deploy/nginx.conf, HTTPS, two
app servers round robin) beside the same page straight from one app server.

    .venv/bin/python bench/two_nodes.py [--seconds 10] [--connections 8]

The processes are those of tests/test_two_nodes.py (tests/multinode.py): two gunicorn
instances (gthread, 1 worker with 4 threads each, their own VAR_DIR), and nginx running
the shipped site file with a self-signed certificate. The database is a throw-away SQLite
file with the demo content, unless DATABASE_URL is set (then it is migrated and the demo
loaded there); the page cache is Redis when REDIS_URL is set (shared by both instances,
under a key prefix of its own), else each instance's own file cache. Every client
connection is kept alive, so TLS handshakes are not what is measured. Figures depend on
the machine: on one machine both instances share its cores, so compare the ratio, not
the absolutes.
"""

import argparse
import http.client
import multiprocessing
import os
import ssl
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.multinode import Cluster, Nginx, start_app_server, wait_until_serving  # noqa: E402


def hammer(args) -> int:
    """Requests done on one kept-alive connection until the deadline."""
    scheme, port, path, deadline, certificate = args
    if scheme == "https":
        context = ssl.create_default_context(cafile=certificate)
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    done = 0
    while time.monotonic() < deadline:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"{scheme}://127.0.0.1:{port}{path} answered {response.status}")
        done += 1
    conn.close()
    return done


def measure(url: str, path: str, seconds: float, connections: int, certificate: str) -> float:
    scheme, _sep, port = url.replace("://", ":").split(":")
    hammer((scheme, int(port), path, time.monotonic() + 1, certificate))  # warm up, fill the cache
    deadline = time.monotonic() + seconds
    jobs = [(scheme, int(port), path, deadline, certificate)] * connections
    with multiprocessing.Pool(connections) as pool:
        return sum(pool.map(hammer, jobs)) / seconds


def environment(folder: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="clinic.settings.base",
        DEBUG="0",
        SECRET_KEY="benchmark-only-" + "k" * 50,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        SECURE_COOKIES="0",
        TRUSTED_PROXY_HOPS="1",
        STATIC_ROOT=str(folder / "static"),
        LOG_LEVEL="WARNING",
        CACHE_KEY_PREFIX=f"bench-{uuid.uuid4().hex[:8]}",
    )
    env.setdefault("DATABASE_URL", f"sqlite:///{folder / 'bench.sqlite3'}")
    return env


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--path", default="/da/lidelser/nakkesmerter/")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        env = environment(folder)
        cluster = Cluster(folder)
        try:
            setup = {**env, "VAR_DIR": str(folder / "var-setup")}
            for command in (["migrate", "-v0"], ["load_demo"], ["collectstatic", "--noinput"]):
                cluster.run(command[0], [sys.executable, "manage.py", *command], setup)
            a = start_app_server(cluster, "app-a", env)
            b = start_app_server(cluster, "app-b", env)
            wait_until_serving(cluster, a, b)
            nginx = Nginx(cluster, [a, b])
            certificate = str(nginx.certificate)
            results = {
                "one instance, direct": measure(
                    a, options.path, options.seconds, options.connections, certificate
                ),
                "nginx (HTTPS), A and B": measure(
                    nginx.url, options.path, options.seconds, options.connections, certificate
                ),
            }
        finally:
            cluster.stop()
    print(
        f"{options.path}, page cache on, {options.connections} connections, "
        f"{options.seconds:g} s each, {os.cpu_count()} CPUs"
    )
    baseline = next(iter(results.values()))
    for label, rps in results.items():
        print(f"{label:<26} {rps:8.0f} req/s   {rps / baseline:5.2f} x direct")


if __name__ == "__main__":
    main()
