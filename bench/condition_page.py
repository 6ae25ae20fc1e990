"""Requests per second of the public pages under gunicorn, each beside a Django view that
returns a constant response; then SQL queries and render time against a condition page's size.

    .venv/bin/python bench/condition_page.py [--seconds 10] [--rounds 2] [--connections 8]
    .venv/bin/python bench/condition_page.py --profile /da/lidelser/nakkesmerter/ [--renders 20]

The speed goals, all measured in one run:

1. The neck-pain page uncached (PAGE_CACHE_SECONDS=0), as the first visitor after an editor's
   save meets it (the published snapshots that save's commit made, checked before the run;
   no rendered HTML is kept anywhere): at least 7 % of the constant view's
   requests per second.
2. The neck-pain page from the page cache, asked with `Accept-Encoding: gzip` (pages are kept
   compressed): at least 80 % of the constant view's, asked with gzip too, on the file cache
   and on Redis. Every answer must carry `X-Page-Cache: hit`, checked before and during the
   measurement; the run stops when one does not.
3. The home page, the testimonials, the questions and answers, and step 1 of the booking,
   uncached: at least 10 % each.
4. At most 12 SQL queries for a condition page whatever its content (counted without the
   published snapshots, clinic/snapshots.py, as after a restart with an empty cache; with
   them, shown as "q snapshot", a page makes none), and render time growing
   no faster than the page (its HTML bytes): the demo's neck-pain page beside a big page
   (bench/big_condition.py: 30 sections, 40 questions, 20 sources, 10 recommended treatments,
   10 key figures, 10 symptoms), rendered in this process by the WSGI handler, cache off.

A case's share is its rate over the constant view's on the same server (a cache server's
constant view pays a cache lookup too, as every request there does) with the same
Accept-Encoding: uncached pages are asked without one, like their constant view; hits with
gzip. Each case is measured --rounds times and every round is shown, so the noise is
visible; the verdict is on the median of the rounds' shares.

gunicorn runs with 2 sync workers and DEBUG off (bench.settings), one server per cache
setting: off, the file cache, and Redis at --redis-url under a key prefix of this run's own
(its keys are removed at the end; the default is REDIS_URL if set, else db 0 on 127.0.0.1).
The database is a throw-away SQLite one in a temporary VAR_DIR (DATABASE_URL is ignored),
with the demo content (load_demo) and collected static files; the big page is added
after the HTTP measurements, so those see the demo alone. The load comes from --connections
processes, each on one keep-alive connection. Figures depend on the machine and its load
(printed): compare the shares, not the absolutes.

--profile PATH skips the HTTP measurements: it runs cProfile over --renders in-process
renders of PATH (cache off; the big page is /da/lidelser/stor-testside/) and prints the top
25 functions by cumulative time in the project and its main libraries, then the top 25 by
internal time anywhere.
"""

import argparse
import cProfile
import http.client
import io
import multiprocessing
import os
import pstats
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable

CONSTANT = "/bench/constant/"
GZIP = {"Accept-Encoding": "gzip"}
MAX_QUERIES = 12
# Whose functions the cumulative profile lists: the project's packages and the libraries
# a public page goes through.
PROJECT_PACKAGES = {"booking", "clinic", "conditions", "testimonials"}
MAIN_LIBRARIES = {
    "axes",
    "crispy_bootstrap5",
    "crispy_forms",
    "csp",
    "django",
    "django_otp",
    "django_permissions_policy",
    "django_prose_editor",
    "modeltranslation",
    "phonenumbers",
    "simple_history",
    "sorl",
    "whitenoise",
}


# --- Load over HTTP ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hammer(args) -> int:
    """Requests answered on one keep-alive connection until the deadline."""
    port, path, deadline, headers, expect_hit = args
    done = 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while time.monotonic() < deadline:
        conn.request("GET", path, headers={"Host": "127.0.0.1", **headers})
        response = conn.getresponse()
        response.read()
        # RuntimeError, not SystemExit: a pool worker that exits leaves map() waiting forever.
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}")
        if expect_hit and response.getheader("X-Page-Cache") != "hit":
            cache = response.getheader("X-Page-Cache")
            raise RuntimeError(
                f"{path} was answered without the page cache (X-Page-Cache: {cache})"
            )
        done += 1
    conn.close()
    return done


def measure(
    port: int,
    path: str,
    seconds: float,
    connections: int,
    headers: dict | None = None,
    expect_hit: bool = False,
) -> float:
    headers = headers or {}
    hammer((port, path, time.monotonic() + 1, headers, expect_hit))  # warm up (fills the cache)
    deadline = time.monotonic() + seconds
    with multiprocessing.Pool(connections) as pool:
        jobs = [(port, path, deadline, headers, expect_hit)] * connections
        total = sum(pool.map(hammer, jobs))
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


@dataclass(frozen=True)
class Case:
    """One path asked of one server; `goal` is its least share of the constant view."""

    label: str
    path: str
    gzip: bool = False
    hit: bool = False  # must be answered from the page cache
    goal: float | None = None

    @property
    def headers(self) -> dict:
        return GZIP if self.gzip else {}


@dataclass
class Server:
    """A gunicorn started with `env` on top of the benchmark's, and the cases asked of it."""

    name: str
    env: dict
    cases: list[Case]
    rates: dict[Case, list[float]] = field(default_factory=dict)

    def baseline(self, case: Case) -> list[float] | None:
        """The constant view's rates with the same Accept-Encoding, None for that view itself."""
        if case.path == CONSTANT:
            return None
        return next(
            rates for c, rates in self.rates.items() if c.path == CONSTANT and c.gzip == case.gzip
        )


def servers(condition: str, urls: dict[str, str], redis_url: str, prefix: str) -> list[Server]:
    hit_cases = [
        Case("constant view", CONSTANT, gzip=True),
        Case("condition page, cache hit", condition, gzip=True, hit=True, goal=0.80),
    ]
    return [
        Server(
            "cache off",
            {"PAGE_CACHE_SECONDS": "0"},
            [
                Case("constant view", CONSTANT),
                Case("constant view", CONSTANT, gzip=True),
                Case("condition page, uncached", condition, goal=0.07),
                Case("home, uncached", urls["home"], goal=0.10),
                Case("testimonials, uncached", urls["testimonials"], goal=0.10),
                Case("FAQ, uncached", urls["faq"], goal=0.10),
                Case("booking step 1, uncached", urls["booking"], goal=0.10),
            ],
        ),
        Server("file cache", {"PAGE_CACHE_SECONDS": "600"}, hit_cases),
        Server(
            "Redis",
            {"PAGE_CACHE_SECONDS": "600", "REDIS_URL": redis_url, "CACHE_KEY_PREFIX": prefix},
            hit_cases,
        ),
    ]


def fetch(port: int, path: str, headers: dict) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Host": "127.0.0.1", **headers})
        response = conn.getresponse()
        response.body = response.read()
        return response
    finally:
        conn.close()


def check(port: int, server: Server, case: Case) -> None:
    """Stop unless `case` answers 200, compressed when asked, from the cache when it must."""
    for _ in range(2):  # a hit case's first request fills the cache
        response = fetch(port, case.path, case.headers)
        if response.status != 200:
            raise SystemExit(
                f"{server.name}: {case.path} answered {response.status} (any traceback is above)"
            )
    if case.gzip and response.getheader("Content-Encoding") != "gzip":
        raise SystemExit(f"{server.name}: {case.path} was not gzip-compressed")
    cache = response.getheader("X-Page-Cache")
    if case.hit != (cache == "hit"):
        wanted = "a cache hit" if case.hit else "uncached"
        raise SystemExit(f"{server.name}: {case.path} should be {wanted} (X-Page-Cache: {cache})")


def run_server(server: Server, env: dict, options) -> None:
    """Start the server, check every case, then measure each case once per round."""
    port = free_port()
    process = serve({**env, **server.env}, port)
    try:
        for case in server.cases:
            check(port, server, case)
        server.rates = {case: [] for case in server.cases}
        for _round in range(options.rounds):
            for case in server.cases:
                rate = measure(
                    port, case.path, options.seconds, options.connections, case.headers, case.hit
                )
                server.rates[case].append(rate)
    finally:
        process.terminate()
        process.wait()


def print_load_table(measured: list[Server], options) -> None:
    rounds = range(1, options.rounds + 1)
    print(
        f"\ngunicorn, 2 sync workers, {options.connections} connections, "
        f"{options.seconds:g} s per case and round\n"
        "share = req/s over the constant view's on the same server with the same "
        "Accept-Encoding; verdict on the median share"
    )
    header = f"{'server':<10} {'case':<26} {'encoding':<8}"
    header += "".join(f"{f'req/s {n}':>9}" for n in rounds)
    header += "".join(f"{f'share {n}':>9}" for n in rounds)
    print(header + f"{'goal':>9}  result")
    for server in measured:
        for case, rates in server.rates.items():
            line = f"{server.name:<10} {case.label:<26} {'gzip' if case.gzip else 'plain':<8}"
            line += "".join(f"{rate:9.0f}" for rate in rates)
            baseline = server.baseline(case)
            if baseline is None:
                print(line + f"{'baseline':>{9 * len(rates)}}")
                continue
            shares = [rate / base for rate, base in zip(rates, baseline, strict=True)]
            line += "".join(f"{share * 100:7.1f} %" for share in shares)
            if case.goal is not None:
                verdict = "PASS" if statistics.median(shares) >= case.goal else "FAIL"
                line += f"{f'>= {case.goal * 100:.0f} %':>9}  {verdict}"
            print(line)


# --- Redis -------------------------------------------------------------------------------


def check_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.RedisError as error:
        raise SystemExit(f"Redis at {url} did not answer: {error}") from error
    finally:
        client.close()


def remove_redis_keys(url: str, prefix: str) -> None:
    """The keys this run left (Django names them "<prefix>:<version>:<key>")."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


# --- In this process ---------------------------------------------------------------------


def start_django(env: dict) -> None:
    """Django in this process, on the benchmark's database, with the page cache off."""
    os.environ.update({**env, "PAGE_CACHE_SECONDS": "0"})
    import django

    django.setup()


def page_urls() -> dict[str, str]:
    from django.urls import reverse
    from django.utils import translation

    with translation.override("da"):
        return {
            "home": reverse("home"),
            "testimonials": reverse("testimonials:index"),
            "faq": reverse("conditions:faq"),
            "booking": reverse("booking:what"),
        }


def wsgi_get(application, path: str) -> tuple[int, bytes]:
    """A GET through the WSGI handler, as gunicorn makes it (without Accept-Encoding)."""
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    statuses = []
    result = application(environ, lambda status, headers, exc_info=None: statuses.append(status))
    try:
        body = b"".join(result)
    finally:
        result.close()  # request_finished: the database connection is closed, as in gunicorn
    return int(statuses[0].split()[0]), body


def render_ok(application, path: str) -> bytes:
    status, body = wsgi_get(application, path)
    if status != 200:
        raise SystemExit(f"{path} answered {status} in process")
    return body


def content_size(path: str) -> dict[str, int]:
    """What the condition page at `path` (/<language>/.../<slug>/) holds."""
    from django.utils import translation

    from conditions.models import FAQ, Condition

    language, *_middle, slug = path.strip("/").split("/")
    with translation.override(language):
        condition = Condition.objects.get(slug=slug)
    faqs = condition.faqs.filter(published=True)
    cited = set(condition.figures.exclude(source=None).values_list("source_id", flat=True))
    cited |= set(
        FAQ.sources.through.objects.filter(faq__in=faqs).values_list("source_id", flat=True)
    )
    return {
        "sections": condition.sections.count(),
        "FAQs": faqs.count(),
        "sources": len(cited),
        "treatments": condition.recommendations.count(),
        "figures": condition.figures.count(),
        "symptoms": condition.symptoms.count(),
    }


def render_figures(application, paths: list[str], renders: int) -> dict[str, dict]:
    """Each page's content size, HTML bytes, SQL queries and median render time.

    The pages' renders alternate, so a change in the machine's load touches them alike.
    """
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    figures = {}
    for path in paths:
        render_ok(application, path)  # warm up: templates, translations, URL patterns
        cache.clear()  # no snapshots: as after a restart with an empty cache
        with CaptureQueriesContext(connection) as captured:
            body = render_ok(application, path)
        with CaptureQueriesContext(connection) as with_snapshots:
            render_ok(application, path)
        figures[path] = {
            **content_size(path),
            "HTML bytes": len(body),
            "queries": len(captured.captured_queries),
            "q snapshot": len(with_snapshots.captured_queries),
        }
    times = {path: [] for path in paths}
    for _ in range(renders):
        for path in paths:
            start = time.perf_counter()
            render_ok(application, path)
            times[path].append(time.perf_counter() - start)
    for path in paths:
        figures[path]["median ms"] = statistics.median(times[path]) * 1000
    return figures


def print_render_table(figures: dict[str, dict], renders: int) -> None:
    print(f"\nIn process (WSGI handler, DEBUG off, page cache off), median of {renders} renders")
    columns = list(next(iter(figures.values())))
    print(f"{'page':<30}" + "".join(f"{name:>11}" for name in columns) + f"  <= {MAX_QUERIES} q")
    for path, row in figures.items():
        cells = "".join(
            f"{row[name]:11.1f}" if isinstance(row[name], float) else f"{row[name]:11,}"
            for name in columns
        )
        verdict = "PASS" if row["queries"] <= MAX_QUERIES else "FAIL"
        print(f"{path:<30}{cells}  {verdict}")
    small, big = figures.values()
    content = big["HTML bytes"] / small["HTML bytes"]
    render = big["median ms"] / small["median ms"]
    verdict = "PASS" if render <= content else "FAIL"
    print(
        f"big / demo: HTML x{content:.2f}, render time x{render:.2f}: {verdict} "
        "(render time grows no faster than the content)"
    )


def where(func: tuple[str, int, str]) -> str:
    """A profiled function's place, short: relative to the project or to site-packages."""
    filename, line, name = func
    if filename == "~":
        return name  # a built-in
    for anchor in ("site-packages/", f"{ROOT}/", "/lib/python3"):
        if anchor in filename:
            filename = filename.split(anchor, 1)[1]
            break
    return f"{filename}:{line}({name})"


def is_ours_or_main_library(filename: str) -> bool:
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/")[0] in MAIN_LIBRARIES
    if filename.startswith(f"{ROOT}/"):
        return filename.removeprefix(f"{ROOT}/").split("/")[0] in PROJECT_PACKAGES
    return False


def print_top(title: str, rows: list, renders: int) -> None:
    print(f"\n{title}")
    print(f"{'calls':>9} {'own ms':>9} {'cum ms':>9}  (per render)")
    for func, calls, own, cumulative in rows[:25]:
        per_render = f"{calls / renders:9.0f} {own * 1000 / renders:9.2f}"
        print(f"{per_render} {cumulative * 1000 / renders:9.2f}  {where(func)}")


def profile(application, path: str, renders: int) -> None:
    render_ok(application, path)  # warm up
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(renders):
        render_ok(application, path)
    profiler.disable()
    rows = [
        (func, calls, own, cumulative)
        for func, (_primitive, calls, own, cumulative, _callers) in pstats.Stats(
            profiler
        ).stats.items()
    ]
    print(f"cProfile over {renders} renders of {path} (page cache off)")
    ours = [row for row in rows if is_ours_or_main_library(row[0][0])]
    ours.sort(key=lambda row: row[3], reverse=True)
    print_top("Top 25 by cumulative time, in the project and its main libraries", ours, renders)
    rows.sort(key=lambda row: row[2], reverse=True)
    print_top("Top 25 by internal time, anywhere", rows, renders)


# --- The run -----------------------------------------------------------------------------


def benchmark_env(var_dir: str) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "0",
        "SECRET_KEY": "benchmark-only-" + "k" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "VAR_DIR": var_dir,
        "LOG_LEVEL": "WARNING",
    }
    # The throw-away SQLite database and the cache each server is given, nothing inherited.
    inherited = ["DATABASE_URL", "REDIS_URL", "CACHE_KEY_PREFIX", "PAGE_CACHE_SECONDS"]
    for name in ["DJANGO_ALLOW_ASYNC_UNSAFE", *inherited]:
        env.pop(name, None)
    return env


def prepare_database(env: dict) -> None:
    # Production settings serve hashed static files: they must be collected first.
    for command in (["migrate", "-v0"], ["load_demo"], ["collectstatic", "--noinput", "-v0"]):
        subprocess.run(
            [PY, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )


def load_average() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def parse_options():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10, help="per case and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--path", default="/da/lidelser/nakkesmerter/", help="the condition page")
    parser.add_argument("--renders", type=int, default=20, help="in-process renders per page")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--profile", metavar="PATH", help="profile PATH instead of measuring")
    options = parser.parse_args()
    if options.rounds < 1 or options.renders < 1:
        parser.error("--rounds and --renders must be at least 1")
    return options


def measure_over_http(env: dict, options) -> None:
    check_redis(options.redis_url)
    prefix = f"bench-{uuid.uuid4().hex[:12]}"
    print(f"load average before: {load_average()}")
    measured = servers(options.path, page_urls(), options.redis_url, prefix)
    try:
        for server in measured:
            run_server(server, env, options)
    finally:
        remove_redis_keys(options.redis_url, prefix)
    print(f"load average after:  {load_average()}")
    print_load_table(measured, options)


def measure_in_process(options) -> None:
    """The big page added, then the profile of --profile, or both pages' figures."""
    from django.core.wsgi import get_wsgi_application
    from django.utils import translation

    from bench.big_condition import build_big_condition

    big = build_big_condition()
    with translation.override("da"):
        big_path = big.get_absolute_url()
    application = get_wsgi_application()
    if options.profile:
        profile(application, options.profile, options.renders)
        return
    figures = render_figures(application, [options.path, big_path], options.renders)
    print_render_table(figures, options.renders)


def check_snapshots_made(path: str) -> None:
    """The uncached cases measure the first render after a save: the page's published
    snapshots must be those load_demo's commit made (a render then reads no database)."""
    from django.core.wsgi import get_wsgi_application
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        render_ok(get_wsgi_application(), path)
    if captured.captured_queries:
        raise SystemExit(f"{path}: the demo's save made no snapshots, the page read the database")
    print(f"{path}: rendered from the snapshots the demo's save made (no query)")


def main():
    options = parse_options()
    with tempfile.TemporaryDirectory() as var_dir:
        env = benchmark_env(var_dir)
        prepare_database(env)
        start_django(env)
        if not options.profile:
            check_snapshots_made(options.path)
            measure_over_http(env, options)
        measure_in_process(options)


if __name__ == "__main__":
    main()
