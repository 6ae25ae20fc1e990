"""Lock files agree with pyproject.toml, the check names what disagrees, the wheel holds code."""

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.db import connection
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "check_lock.py"
APPS = ("clinic", "booking", "conditions", "testimonials")
heavy = pytest.mark.skipif(connection.vendor != "postgresql", reason="heavy: PostgreSQL pass only")


def run_check(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
    )


class Copies:
    """pyproject.toml and both locks copied into a folder where a test may change them."""

    def __init__(self, folder: Path):
        self.pyproject = Path(shutil.copy(ROOT / "pyproject.toml", folder))
        self.lock = Path(shutil.copy(ROOT / "requirements.lock", folder))
        self.dev_lock = Path(shutil.copy(ROOT / "requirements-dev.lock", folder))

    def check(self, *extra: str) -> subprocess.CompletedProcess:
        paths = ("--pyproject", self.pyproject, "--lock", self.lock, "--dev-lock", self.dev_lock)
        return run_check(*paths, *extra)

    def replace_requirement(self, package: str, new: str) -> None:
        """Swap the one requirement on `package` in pyproject.toml for `new`."""
        pattern = re.compile(rf'^    "{re.escape(package)}[\[<>=!~][^"]*",$', re.MULTILINE)
        text = self.pyproject.read_text()
        assert len(pattern.findall(text)) == 1, package
        self.pyproject.write_text(pattern.sub(f'    "{new}",', text))

    def add_requirement(self, table_start: str, requirement: str) -> None:
        """Add `requirement` as the first entry of the list opened by `table_start`."""
        text = self.pyproject.read_text()
        assert text.count(table_start) == 1, table_start
        self.pyproject.write_text(text.replace(table_start, f'{table_start}\n    "{requirement}",'))


def pinned(lock: Path, package: str) -> Version:
    found = re.findall(rf"^{re.escape(package)}==(\S+)", lock.read_text(), re.MULTILINE)
    assert len(found) == 1, package
    return Version(found[0])


@pytest.fixture
def copies(tmp_path: Path) -> Copies:
    return Copies(tmp_path)


def test_committed_locks_agree_with_pyproject():
    result = run_check()
    assert result.returncode == 0, result.stderr
    assert "agree with pyproject.toml" in result.stdout


def test_every_lock_entry_is_pinned_and_hashed():
    for lock in (ROOT / "requirements.lock", ROOT / "requirements-dev.lock"):
        entries = re.split(r"\n(?=\S)", lock.read_text())
        pins = [entry for entry in entries if not entry.startswith("#")]
        assert len(pins) > 40, lock.name
        for entry in pins:
            assert re.match(r"^[a-z0-9-]+==\S+", entry), entry
            assert "--hash=sha256:" in entry, entry


def test_floor_raised_above_the_pin_fails_naming_the_package(copies):
    locked = pinned(copies.lock, "pypdf")
    floor = f"{locked.major}.{locked.minor}.{locked.micro + 1}"
    copies.replace_requirement("pypdf", f"pypdf>={floor}")

    result = copies.check()

    assert result.returncode == 1
    for lock in ("requirements.lock", "requirements-dev.lock"):
        assert f"{lock}: pypdf=={locked} is outside pypdf>={floor}" in result.stderr
    assert "make lock" in result.stderr


def test_floor_raised_to_the_pin_fails_until_the_locks_are_stamped(copies):
    """A floor the pin still meets passes only once the locks record it (as `make lock` does)."""
    locked = pinned(copies.lock, "pypdf")
    copies.replace_requirement("pypdf", f"pypdf>={locked}")

    result = copies.check()
    assert result.returncode == 1
    assert f"pyproject.toml asks for pypdf>={locked} but the lock was compiled from" in (
        result.stderr
    )
    assert "is outside" not in result.stderr

    assert copies.check("--stamp").returncode == 0
    stamped = copies.dev_lock.read_text()
    assert copies.check().returncode == 0
    assert copies.check("--stamp").returncode == 0
    assert copies.dev_lock.read_text() == stamped, "stamping twice changes nothing"
    assert stamped.count(f"# requirement: pypdf>={locked}\n") == 1


def test_new_dependency_fails_in_both_locks(copies):
    copies.add_requirement("dependencies = [", "tomli-w>=1.0")

    result = copies.check()

    assert result.returncode == 1
    for lock in ("requirements.lock", "requirements-dev.lock"):
        assert f"{lock}: tomli-w is required by pyproject.toml but not locked" in result.stderr
        assert f"{lock}: pyproject.toml asks for tomli-w>=1.0, which" in result.stderr


def test_new_dev_dependency_fails_only_in_the_dev_lock(copies):
    copies.add_requirement("dev = [", "tomli-w>=1.0")

    result = copies.check()

    assert result.returncode == 1
    assert "requirements-dev.lock: tomli-w is required" in result.stderr
    assert "requirements.lock:" not in result.stderr


def test_dropped_dependency_fails(copies):
    text = copies.pyproject.read_text()
    copies.pyproject.write_text(re.sub(r'^    "polib>=[^"]*",\n', "", text, flags=re.MULTILINE))

    result = copies.check()

    assert result.returncode == 1
    assert "requirements.lock: the lock is from polib>=" in result.stderr


@pytest.mark.parametrize("lock_name", ["requirements.lock", "requirements-dev.lock"])
def test_pin_outside_the_range_fails(copies, lock_name):
    lock = copies.pyproject.parent / lock_name
    locked = pinned(lock, "django")
    lock.write_text(lock.read_text().replace(f"django=={locked} ", "django==5.3.0 "))

    result = copies.check()

    assert result.returncode == 1
    assert f"{lock_name}: django==5.3.0 is outside Django<5.3,>=5.2" in result.stderr
    assert "but requirements-dev.lock has" in result.stderr, "the two locks no longer match"


def test_pin_without_hashes_fails(copies):
    text = copies.dev_lock.read_text()
    unhashed = re.sub(
        r"^(pypdf==\S+) \\\n(    --hash=\S+ \\\n)*    --hash=\S+\n",
        r"\1\n",
        text,
        flags=re.MULTILINE,
    )
    assert unhashed != text
    copies.dev_lock.write_text(unhashed)

    result = copies.check()

    assert result.returncode == 1
    assert "requirements-dev.lock: pypdf has no --hash" in result.stderr


def test_missing_lock_fails(copies):
    copies.lock.unlink()

    result = copies.check()

    assert result.returncode == 1
    assert "requirements.lock is missing" in result.stderr


@heavy
def test_wheel_holds_the_apps_code_and_no_tests(tmp_path):
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in (*APPS, "tests"):
        shutil.copytree(ROOT / folder, source / folder, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source)

    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            tmp_path / "dist",
            source,
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )

    (wheel,) = (tmp_path / "dist").glob("clinic_site-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "clinic/settings/base.py" in names
    assert "booking/models/__init__.py" in names
    assert any(re.fullmatch(r"booking/migrations/0009_\w+\.py", name) for name in names)
    assert "booking/management/commands/purge_imaging.py" in names
    assert not any(name.startswith("tests/") for name in names)
    app_files = {
        path.relative_to(source).as_posix()
        for app in APPS
        for path in (source / app).rglob("*")
        if path.is_file()
    }
    assert app_files - names == set(), "every file in the app folders is in the wheel"
    outside = {name for name in names if not name.startswith((*APPS, "clinic_site-"))}
    assert outside == set()
