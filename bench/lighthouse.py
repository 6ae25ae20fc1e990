"""Lighthouse scores (mobile) of four Danish pages under gunicorn with DEBUG off.

    .venv/bin/python bench/lighthouse.py [--runs 3] [--page home] [--save var/lighthouse]

Pages: the home page, the neck-pain page, step 1 of the booking and the patients'
experiences. Each page is audited --runs times (default 3) and the median of each
category (performance, accessibility, best practices, SEO) is shown, followed by the
audits that scored under 1 in any run, with their ids, weights and titles.

Needs Node.js (20 or later) and Chromium (CHROME_PATH, default /usr/bin/chromium). The
first run installs the pinned `lighthouse` npm package into var/node/ (git-ignored).
Like the other benchmarks it uses a throw-away SQLite database with the demo content
(or DATABASE_URL / REDIS_URL when set), after collectstatic; bench/lighthouse_urls.py
serves /media/ as the reverse proxy does in production.

Lighthouse's performance score is simulated (Slow 4G, 4x CPU slowdown) from a trace taken
on this machine: on a busy machine it varies between runs, hence the median; the load
average is printed beside the table. Lighthouse 13 also asks for /llms.txt and
/.well-known/ai-catalog.json (its "agentic browsing" category, not shown): the server logs
their 404s.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.condition_page import free_port, serve  # noqa: E402

PY = sys.executable
LIGHTHOUSE_VERSION = "13.5.0"
NODE_DIR = ROOT / "var" / "node"
LIGHTHOUSE = NODE_DIR / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
CATEGORY_LABELS = {
    "performance": "perf",
    "accessibility": "a11y",
    "best-practices": "best",
    "seo": "seo",
}
# Printed in the shell of `manage.py shell -c`: each page's Danish address as JSON.
RESOLVE_URLS = """
import json
from django.urls import reverse
from django.utils import translation
from conditions.models import Condition
with translation.override("da"):
    print(json.dumps({
        "home": reverse("home"),
        "neck-pain": Condition.objects.get(slug_da="nakkesmerter").get_absolute_url(),
        "booking": reverse("booking:what"),
        "testimonials": reverse("testimonials:index"),
    }))
"""


def install_lighthouse() -> Path:
    """The lighthouse command, installed under var/node/ at the pinned version if missing."""
    installed = NODE_DIR / "node_modules" / "lighthouse" / "package.json"
    if installed.exists() and json.loads(installed.read_text())["version"] == LIGHTHOUSE_VERSION:
        return LIGHTHOUSE
    if not shutil.which("npm"):
        raise SystemExit("npm not found: install Node.js 20 or later")
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    print(f"Installing lighthouse@{LIGHTHOUSE_VERSION} into {NODE_DIR.relative_to(ROOT)}/ ...")
    subprocess.run(
        [
            "npm",
            "install",
            "--prefix",
            str(NODE_DIR),
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            f"lighthouse@{LIGHTHOUSE_VERSION}",
        ],
        check=True,
    )
    return LIGHTHOUSE


def prepare_site(env: dict) -> dict[str, str]:
    """Migrate, load the demo, collect static files; the pages' addresses."""
    for command in (["migrate", "-v0"], ["load_demo"], ["collectstatic", "--noinput", "-v0"]):
        subprocess.run(
            [PY, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    output = subprocess.run(
        [PY, "manage.py", "shell", "-c", RESOLVE_URLS],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def audit(lighthouse: Path, url: str, report_path: Path, chrome: str, attempts: int = 3) -> dict:
    """One Lighthouse run (mobile, the default form factor); its JSON report.

    On a loaded machine Lighthouse sometimes loses the trace (NO_NAVSTART, NO_FCP): such
    a run is started again, up to `attempts` times in all.
    """
    for attempt in range(1, attempts + 1):
        finished = subprocess.run(
            [
                str(lighthouse),
                url,
                "--output=json",
                f"--output-path={report_path}",
                "--chrome-flags=--headless=new --no-sandbox",
                "--quiet",
            ],
            env={**os.environ, "CHROME_PATH": chrome},
        )
        if finished.returncode == 0:
            report = json.loads(report_path.read_text())
            if not report.get("runtimeError"):
                return report
        print(f"  run failed (attempt {attempt}/{attempts})", flush=True)
    raise SystemExit(f"Lighthouse failed {attempts} times on {url}")


def scores(report: dict) -> dict[str, int]:
    return {name: round((report["categories"][name]["score"] or 0) * 100) for name in CATEGORIES}


def failing_audits(report: dict) -> dict[str, tuple[str, str, float]]:
    """Audits under 1 in the four categories: id -> (category, title, weight)."""
    failing = {}
    for name in CATEGORIES:
        for ref in report["categories"][name]["auditRefs"]:
            result = report["audits"][ref["id"]]
            if result["scoreDisplayMode"] in {"notApplicable", "informative", "manual"}:
                continue
            if result["score"] is not None and result["score"] < 1:
                failing[ref["id"]] = (CATEGORY_LABELS[name], result["title"], ref["weight"])
    return failing


def load_average() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def print_table(results: dict[str, list[dict]], urls: dict[str, str], load_before: str) -> None:
    runs = max(len(reports) for reports in results.values())
    print(f"\nLighthouse {LIGHTHOUSE_VERSION}, mobile, median of {runs} run(s)")
    print(f"load average (1, 5, 15 min): {load_before} before, {load_average()} after")
    header = f"{'page':<14}" + "".join(f"{CATEGORY_LABELS[c]:>6}" for c in CATEGORIES)
    print(header + "   all runs (perf a11y best seo)  address")
    for page, reports in results.items():
        per_run = [scores(report) for report in reports]
        medians = [round(statistics.median(run[c] for run in per_run)) for c in CATEGORIES]
        every = " | ".join(" ".join(f"{run[c]:3d}" for c in CATEGORIES) for run in per_run)
        print(f"{page:<14}" + "".join(f"{m:6d}" for m in medians) + f"   {every}  {urls[page]}")
    print("\nAudits under 1 (runs in which they failed, category, weight in its category):")
    for page, reports in results.items():
        seen: dict[str, list] = {}
        for report in reports:
            for audit_id, (category, title, weight) in failing_audits(report).items():
                seen.setdefault(audit_id, [0, category, title, weight])[0] += 1
        if not seen:
            print(f"  {page}: none")
            continue
        print(f"  {page}:")
        for audit_id, (count, category, title, weight) in sorted(
            seen.items(), key=lambda item: (item[1][1], -item[1][3], item[0])
        ):
            print(f"    {count}/{len(reports)} {category:<5} w{weight:<3g} {audit_id}: {title}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per page (median shown)")
    parser.add_argument(
        "--page",
        action="append",
        choices=["home", "neck-pain", "booking", "testimonials"],
        help="audit only this page (may be repeated)",
    )
    parser.add_argument("--save", type=Path, help="keep the JSON reports in this folder")
    parser.add_argument("--chrome", default=os.environ.get("CHROME_PATH", "/usr/bin/chromium"))
    options = parser.parse_args()

    lighthouse = install_lighthouse()
    with tempfile.TemporaryDirectory() as var_dir:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.lighthouse_settings",
            "DEBUG": "0",
            "SECRET_KEY": "benchmark-only-" + "k" * 50,
            "ALLOWED_HOSTS": "127.0.0.1",
            "VAR_DIR": var_dir,
            "LOG_LEVEL": "WARNING",
        }
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        urls = prepare_site(env)
        pages = options.page or list(urls)
        reports_dir = options.save or Path(var_dir) / "reports"
        reports_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        server = serve(env, port)
        results: dict[str, list[dict]] = {page: [] for page in pages}
        load_before = load_average()
        try:
            for run in range(1, options.runs + 1):
                for page in pages:
                    url = f"http://127.0.0.1:{port}{urls[page]}"
                    path = reports_dir / f"{page}-{run}.json"
                    print(f"run {run}/{options.runs}: {url}", flush=True)
                    results[page].append(audit(lighthouse, url, path, options.chrome))
        finally:
            server.terminate()
            server.wait()
        print_table(results, urls, load_before)


if __name__ == "__main__":
    main()
