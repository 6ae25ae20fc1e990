"""Check that the lock files agree with pyproject.toml.

`make test` runs this so that a requirement changed in pyproject.toml without `make lock`
fails at once, naming the package, instead of installing versions nobody tested. It reads
files only (no network). Each lock starts with the requirements it was compiled from; `make
lock` writes them with `--stamp`.

    python deploy/check_lock.py            # check; exit 1 with the reasons on disagreement
    python deploy/check_lock.py --stamp    # after `uv pip compile`: record the requirements
"""

import argparse
import sys
import tomllib
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
INTRO = "# Compiled from these requirements of pyproject.toml (deploy/check_lock.py compares them):"
RECORDED = "# requirement: "


def normalised(requirement: Requirement) -> str:
    """One spelling per requirement, so that only a real change counts as a difference."""
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    marker = f"; {requirement.marker}" if requirement.marker else ""
    return f"{canonicalize_name(requirement.name)}{extras}{requirement.specifier}{marker}"


def requirements(pyproject: Path) -> tuple[list[Requirement], list[Requirement]]:
    """The runtime requirements, and the runtime ones plus the `dev` extra."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    runtime = [Requirement(line) for line in project.get("dependencies", [])]
    dev = [Requirement(line) for line in project.get("optional-dependencies", {}).get("dev", [])]
    return runtime, runtime + dev


class Lock:
    """A hashed requirements file as `uv pip compile --generate-hashes` writes it."""

    def __init__(self, path: Path):
        self.path = path
        self.recorded: list[str] = []
        self.pins: dict[str, list[Version]] = {}
        self.problems: list[str] = []
        self.exists = path.is_file()
        if not self.exists:
            return
        text = path.read_text(encoding="utf-8")
        for line in text.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line.startswith(RECORDED):
                self.recorded.append(line.removeprefix(RECORDED))
            elif line and not line.startswith("#"):
                self._read_pin(line)

    def _read_pin(self, line: str) -> None:
        requirement_text, _, hashes = line.partition(" --hash=")
        try:
            pin = Requirement(requirement_text)
        except InvalidRequirement:
            self.problems.append(f"{self.path.name}: cannot read {requirement_text!r}")
            return
        specifiers = list(pin.specifier)
        if len(specifiers) != 1 or specifiers[0].operator != "==":
            self.problems.append(f"{self.path.name}: {pin.name} is not pinned with ==")
            return
        if not hashes:
            self.problems.append(f"{self.path.name}: {pin.name} has no --hash")
        name = canonicalize_name(pin.name)
        self.pins.setdefault(name, []).append(Version(specifiers[0].version))

    def stamp(self, wanted: list[Requirement]) -> None:
        """Write the requirements this lock was compiled from at its top."""
        lines = [
            line
            for line in self.path.read_text(encoding="utf-8").splitlines(keepends=True)
            if line.rstrip("\n") != INTRO and not line.startswith(RECORDED)
        ]
        recorded = [f"{RECORDED}{line}\n" for line in sorted({normalised(r) for r in wanted})]
        header = [INTRO + "\n", *recorded]
        self.path.write_text("".join(header + lines), encoding="utf-8")


def by_package(lines: set[str]) -> dict[str, list[str]]:
    """Normalised requirement lines grouped by the package they name."""
    grouped: dict[str, list[str]] = {}
    for line in sorted(lines):
        grouped.setdefault(canonicalize_name(Requirement(line).name), []).append(line)
    return grouped


def disagreements(lock: Lock, wanted: list[Requirement]) -> list[str]:
    """Why `lock` does not install what pyproject.toml asks for; empty when it does."""
    name = lock.path.name
    if not lock.exists:
        return [f"{name} is missing"]
    problems = list(lock.problems)
    expected = by_package({normalised(requirement) for requirement in wanted})
    recorded = by_package(set(lock.recorded))
    for package in sorted(expected.keys() | recorded.keys()):
        asked, compiled = expected.get(package, []), recorded.get(package, [])
        if asked == compiled:
            continue
        if not compiled:
            problems.append(
                f"{name}: pyproject.toml asks for {', '.join(asked)}, which the lock is not from"
            )
        elif not asked:
            problems.append(
                f"{name}: the lock is from {', '.join(compiled)}, which pyproject.toml dropped"
            )
        else:
            problems.append(
                f"{name}: pyproject.toml asks for {', '.join(asked)} "
                f"but the lock was compiled from {', '.join(compiled)}"
            )
    for requirement in wanted:
        package = canonicalize_name(requirement.name)
        if package not in lock.pins:
            problems.append(f"{name}: {package} is required by pyproject.toml but not locked")
            continue
        for version in lock.pins[package]:
            if not requirement.specifier.contains(version, prereleases=True):
                problems.append(
                    f"{name}: {package}=={version} is outside {requirement} in pyproject.toml"
                )
    return problems


def mismatched_pins(runtime: Lock, dev: Lock) -> list[str]:
    """Packages the servers would run at another version than the tests ran."""
    return [
        f"{runtime.path.name}: {package}=={', '.join(map(str, versions))} but "
        f"{dev.path.name} has {', '.join(map(str, dev.pins.get(package, []))) or 'none'}"
        for package, versions in sorted(runtime.pins.items())
        if sorted(versions) != sorted(dev.pins.get(package, []))
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml")
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements.lock")
    parser.add_argument("--dev-lock", type=Path, default=ROOT / "requirements-dev.lock")
    parser.add_argument(
        "--stamp", action="store_true", help="record pyproject.toml's requirements in the locks"
    )
    args = parser.parse_args(argv)

    runtime_wanted, dev_wanted = requirements(args.pyproject)
    runtime, dev = Lock(args.lock), Lock(args.dev_lock)
    if args.stamp:
        runtime.stamp(runtime_wanted)
        dev.stamp(dev_wanted)
        return 0

    problems = disagreements(runtime, runtime_wanted) + disagreements(dev, dev_wanted)
    if runtime.exists and dev.exists:
        problems += mismatched_pins(runtime, dev)
    if problems:
        print("The lock files disagree with pyproject.toml:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        print("Run `make lock` and commit both lock files.", file=sys.stderr)
        return 1
    print(f"{args.lock.name} and {args.dev_lock.name} agree with {args.pyproject.name}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
