"""Semantic versions and version ranges (the GitLab-release dimension).

Range syntax follows Helm and Flux (Masterminds semver): comparators joined by spaces or commas
(AND), alternatives joined by `||` (OR); operators `=`, `!=`, `>`, `>=`, `<`, `<=`, `~`, `^`, and
`x`/`*` wildcards (`17.x`).
"""

from __future__ import annotations

import dataclasses
import re

import semver

_COMPARATOR = re.compile(
    r"^(?P<op>>=|<=|!=|=|>|<|~|\^)?\s*v?(?P<major>\d+|[xX*])(?:\.(?P<minor>\d+|[xX*]))?(?:\.(?P<patch>\d+|[xX*]))?(?P<pre>-[0-9A-Za-z.-]+)?$"
)


def parse_version(text: str) -> semver.Version:
    """A full or partial version (`17`, `17.9`, `v17.9.2`) as a semver Version."""
    cleaned = text.strip().removeprefix("v")
    parts = cleaned.split("-", 1)
    numbers = parts[0].split(".")
    if not 1 <= len(numbers) <= 3 or not all(n.isdigit() for n in numbers):
        raise ValueError(f"{text!r} is not a version (expected MAJOR.MINOR.PATCH, e.g. 17.9.2)")
    numbers += ["0"] * (3 - len(numbers))
    full = ".".join(numbers) + (f"-{parts[1]}" if len(parts) > 1 else "")
    try:
        return semver.Version.parse(full)
    except ValueError as err:
        raise ValueError(f"{text!r} is not a version: {err}") from None


_EDITION = re.compile(r"[-+](ee|ce|jh)(\.\d+)?$", re.IGNORECASE)


def parse_gitlab_version(text: str) -> semver.Version:
    """A GitLab release as GitLab writes it (`17.6.0-ee`, `17.6.0-ce.0`, `v17.6.0`): the edition
    is not a pre-release, so `17.6.0-ee` satisfies `>=17.6.0`."""
    return parse_version(_EDITION.sub("", text.strip()))


@dataclasses.dataclass(frozen=True, slots=True)
class _Bound:
    op: str
    version: semver.Version

    def allows(self, version: semver.Version) -> bool:
        cmp = version.compare(self.version)
        return {
            ">": cmp > 0,
            ">=": cmp >= 0,
            "<": cmp < 0,
            "<=": cmp <= 0,
            "=": cmp == 0,
            "!=": cmp != 0,
        }[self.op]


def _expand(token: str) -> list[_Bound]:
    match = _COMPARATOR.match(token)
    if match is None:
        raise ValueError(f"{token!r} is not a version comparator (e.g. >=17.0, <19, ~17.9, 17.x)")
    op = match["op"] or "="
    raw = [match["major"], match["minor"], match["patch"]]
    wild = [p is None or p.lower() in ("x", "*") for p in raw]
    nums = [0 if w else int(p) for p, w in zip(raw, wild, strict=True)]
    pre = (match["pre"] or "")[1:] or None
    if wild[0]:
        return [] if op in ("=", ">=", "<=", "~", "^") else [_Bound("<", semver.Version(0))]
    base = semver.Version(nums[0], nums[1], nums[2], pre)
    if op == "^":
        upper = base.bump_major() if nums[0] > 0 or wild[1] else base.bump_minor()
        return [_Bound(">=", base), _Bound("<", upper)]
    if op == "~" or (op == "=" and any(wild[1:])):
        upper = base.bump_major() if wild[1] else base.bump_minor()
        return [_Bound(">=", base), _Bound("<", upper)]
    if any(wild[1:]) and op in (">", "<="):
        upper = base.bump_major() if wild[1] else base.bump_minor()
        return [_Bound(">=" if op == ">" else "<", upper)]
    return [_Bound(op, base)]


@dataclasses.dataclass(frozen=True, slots=True)
class VersionRange:
    """A parsed range; `str()` gives back the text it was parsed from."""

    text: str
    alternatives: tuple[tuple[_Bound, ...], ...]

    def allows(self, version: str | semver.Version) -> bool:
        value = parse_version(version) if isinstance(version, str) else version
        return any(all(b.allows(value) for b in group) for group in self.alternatives)

    def __str__(self) -> str:
        return self.text


def parse_range(text: str) -> VersionRange:
    if not text.strip():
        raise ValueError("a version range cannot be empty (e.g. '>=17.0 <19.0')")
    groups: list[tuple[_Bound, ...]] = []
    for alternative in text.split("||"):
        joined = re.sub(r"(>=|<=|!=|=|>|<|~|\^)\s+", r"\1", alternative.strip())
        tokens = [tok for tok in re.split(r"[\s,]+", joined) if tok]
        if not tokens:
            raise ValueError(f"{text!r} has an empty alternative around '||'")
        bounds: list[_Bound] = []
        for token in tokens:
            bounds.extend(_expand(token))
        groups.append(tuple(bounds))
    return VersionRange(text.strip(), tuple(groups))
