"""Mutation fuzzing of the loader and compiler: `python -m bench.fuzz [CASES]` (default 10,000).

Each case mutates a real manifest (ours, and the real-shape fixtures) and runs it through
validate and, when it validates, resolve + compile. Anything but a clean result or a RunwayError
is a crash, reported grouped by root cause (exception type and the innermost runway frame).
Exits 1 when there is any crash.
"""

from __future__ import annotations

import collections
import random
import sys
import tempfile
import time
import traceback
from pathlib import Path

from runway.chart import build
from runway.chart.spec import BuildOptions
from runway.errors import RunwayError
from runway.manifest import loader

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted(
    p
    for folder in (ROOT / "manifests", ROOT / "tests" / "fixtures" / "real")
    for p in folder.rglob("*.y*ml")
)
FRAGMENTS = [
    "[",
    "]",
    "{",
    "}",
    ":",
    "- ",
    "&a ",
    "*a",
    "!!int ",
    "!!bool ",
    "!!float ",
    "!!binary ",
    "!!set ",
    "!custom ",
    "<<: *a\n",
    "\t",
    "\x00",
    "\x07",
    "'",
    '"',
    "|\n",
    ">\n",
    "? ",
    "0x1F",
    "1e400",
    "012345",
    ".inf",
    "null",
    "~",
    "true",
    "-1",
    "99999999999999999999",
    "apiVersion: [a]\n",
    "kind: {a: 1}\n",
    "---\n",
    "...\n",
    "\ufeff",
    "é",
    "\U0001f600",
    "${region}",
    "{{ .Values.x }}",
    "$(POD_IP)",
    "/../",
    "/tmp",
    "glpat-abcdefghij1234567890",
]


def mutate(text: str, rng: random.Random) -> str:
    """One to four random edits: delete, insert, duplicate or swap spans, or change indentation."""
    for _ in range(rng.randint(1, 4)):
        if not text:
            text = rng.choice(FRAGMENTS)
            continue
        at = rng.randrange(len(text))
        span = rng.randint(1, 40)
        choice = rng.randrange(6)
        if choice == 0:
            text = text[:at] + text[at + span :]
        elif choice == 1:
            text = text[:at] + rng.choice(FRAGMENTS) + text[at:]
        elif choice == 2:
            text = text[:at] + text[at : at + span] * rng.randint(2, 5) + text[at:]
        elif choice == 3:
            lines = text.split("\n")
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        elif choice == 4:
            lines = text.split("\n")
            i = rng.randrange(len(lines))
            lines[i] = " " * rng.choice([0, 1, 2, 3, 4, 6]) + lines[i].lstrip()
            text = "\n".join(lines)
        else:
            text = text[:at] + chr(rng.randrange(0, 0x250)) + text[at:]
    return text


def run_case(seed: Path, text: str, workdir: Path) -> None:
    """Validate, then compile when valid. Raises only on a crash (not a RunwayError)."""
    folder = workdir / "svc"
    if folder.exists():
        for old in folder.iterdir():
            old.unlink()
    folder.mkdir(exist_ok=True)
    for sibling in seed.parent.iterdir():
        if sibling.is_file() and sibling != seed:
            (folder / sibling.name).write_bytes(sibling.read_bytes())
    (folder / seed.name).write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        result = loader.load_paths([folder])
        if not result.ok:
            return
        for service in result.services:
            for environment in (
                None,
                *sorted(service.environments or ()),
                *sorted(service.env_vars),
            ):
                build.compile_service(
                    service, BuildOptions(environment=environment, image="r.example.com/x:1")
                )
    except RunwayError:
        return


def cause(error: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if "/runway/" in f.filename]
    where = (
        f"{Path(frames[-1].filename).name}:{frames[-1].lineno} {frames[-1].name}" if frames else "?"
    )
    return f"{type(error).__name__} at {where}"


def main() -> None:
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 2026)
    crashes: dict[str, list[str]] = collections.defaultdict(list)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for number in range(cases):
            seed = rng.choice(SEEDS)
            text = mutate(seed.read_text(), rng)
            try:
                run_case(seed, text, Path(tmp))
            except Exception as error:  # every crash is counted, whatever it is
                crashes[cause(error)].append(f"case {number} ({seed.relative_to(ROOT)})")
    elapsed = time.perf_counter() - started
    total = sum(len(v) for v in crashes.values())
    print(f"fuzz: {cases} cases in {elapsed:.1f} s, {total} crashes, {len(crashes)} root causes")
    for root_cause, where in sorted(crashes.items(), key=lambda item: -len(item[1])):
        print(f"  {len(where):5d}  {root_cause}  e.g. {where[0]}")
    sys.exit(1 if crashes else 0)


if __name__ == "__main__":
    main()
