"""The booking app's modules import each other in one direction only (no circles)."""

import ast
from pathlib import Path

import booking

APP = Path(booking.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports_between_modules() -> dict[str, set[str]]:
    modules = {
        _module_name(path): path
        for path in APP.rglob("*.py")
        if "migrations" not in path.parts and "management" not in path.parts
    }
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            graph[name].update(t for t in targets if t in modules and t != name)
    # A package's __init__ importing its own submodules is how a package re-exports.
    for name in graph:
        graph[name] = {t for t in graph[name] if not t.startswith(name + ".")}
    return graph


def _find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> list[str] | None:
        state[name] = 1
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state and (found := visit(target, [*path, target])):
                return found
        state[name] = 2
        return None

    for name in sorted(graph):
        if name not in state and (found := visit(name, [name])):
            return found
    return None


def test_booking_modules_import_each_other_without_circles():
    graph = _imports_between_modules()
    assert "booking.imaging.processing" in graph and "booking.models.bookings" in graph
    assert _find_circle(graph) is None, " -> ".join(_find_circle(graph))


def test_the_circle_finder_reports_a_circle():
    assert _find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_circle({"a": {"b"}, "b": set()}) is None


def test_imaging_code_lives_in_its_own_package():
    assert not list(APP.glob("review_*.py"))
    for module in ("processing", "dicom", "views", "services", "urls", "admin"):
        assert (APP / "imaging" / f"{module}.py").exists(), module
