"""The demo's words, read from data files: one language-neutral file and one file per language.

A demo folder (e.g. `conditions/demo/`) holds `structure.yaml` with what no language changes
(order, links between records, settings) and, for each part of the content, one file per
language: `neck-pain.da.yaml`, `neck-pain.en.yaml`, `neck-pain.nb.yaml` ... Adding a language
is adding its files; a missing file leaves that language empty, so the site's fallback (with
its label) shows, exactly as for content an editor has not yet translated.

`merged()` folds the language files into the shape the models take: a text `name` in
`x.da.yaml` becomes `name_da`, lists are matched item by item (and must be equally long in
every language and in the structure), and a list of plain texts becomes rows of
`{language: text}`.
"""

import copy
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml

from clinic.i18n import site_languages


class DemoDataError(ValueError):
    """A demo data file does not fit the others (a list of another length, a text for a list)."""


# libyaml's parser when PyYAML was built with it (its wheels are), else the pure-Python one.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read(path: Path) -> dict:
    """The file's data; parsed once per version of the file (tests load the demo often)."""
    stat = path.stat()
    return copy.deepcopy(_parsed(path, stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=128)
def _parsed(path: Path, mtime_ns: int, size: int):
    with path.open(encoding="utf-8") as stream:
        try:
            return yaml.load(stream, Loader=LOADER) or {}
        except yaml.YAMLError as error:
            raise DemoDataError(f"{path.name}: {error}") from error


def per_language(folder: Path, name: str) -> dict[str, dict]:
    """`{language: data}` for every site language that has `name.<language>.yaml`."""
    found = {}
    for code in site_languages():
        path = folder / f"{name}.{code}.yaml"
        if path.exists():
            found[code] = read(path)
    return found


def _is_scalar(value) -> bool:
    return isinstance(value, (str, int, float, bool, date))


def _clean(value):
    return value.strip() if isinstance(value, str) else value


def merged(texts: dict[str, object], neutral=None, where: str = ""):
    """Fold `{language: tree}` (and the neutral tree) into one tree with `field_<language>` keys."""
    present = {code: tree for code, tree in texts.items() if tree is not None}
    if not present:
        return neutral
    kinds = {"text" if _is_scalar(tree) else type(tree).__name__ for tree in present.values()}
    if len(kinds) > 1:
        raise DemoDataError(f"{where or 'top'}: not the same kind of value in {sorted(present)}")
    sample = next(iter(present.values()))
    if isinstance(sample, dict):
        result = dict(neutral or {})
        keys = dict.fromkeys(key for tree in present.values() for key in tree)
        for key in keys:
            values = {code: tree.get(key) for code, tree in present.items()}
            given = [value for value in values.values() if value is not None]
            if given and all(map(_is_scalar, given)):
                for code, value in values.items():
                    if value is not None:
                        result[f"{key}_{code}"] = _clean(value)
            else:
                result[key] = merged(values, (neutral or {}).get(key), f"{where}.{key}")
        return result
    if isinstance(sample, list):
        lengths = {code: len(tree) for code, tree in present.items()}
        if neutral is not None:
            lengths["structure"] = len(neutral)
        if len(set(lengths.values())) > 1:
            raise DemoDataError(f"{where or 'top'}: lists of different lengths {lengths}")
        return [
            merged(
                {code: tree[index] for code, tree in present.items()},
                neutral[index] if neutral is not None else None,
                f"{where}[{index}]",
            )
            for index in range(len(sample))
        ]
    return {code: _clean(value) for code, value in present.items()}


def rows(items: list[dict], field: str) -> list[dict]:
    """Rows of `{language: text}` (a list of plain texts) as `{field_<language>: text}`."""
    return [{f"{field}_{code}": text for code, text in item.items()} for item in items]
