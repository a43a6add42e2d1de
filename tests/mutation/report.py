"""The mutation score of each module `make mutate` covers, read from mutmut's results.

mutmut 3 keeps one ``mutants/<path>.meta`` (JSON) per mutated file, mapping each mutant to
the exit code its test run ended with. Run from the repo root after ``mutmut run``::

    .venv/bin/python -m tests.mutation.report                # the per-module table
    .venv/bin/python -m tests.mutation.report --survivors    # and every mutant not killed
    .venv/bin/python -m tests.mutation.report --json out.json
    .venv/bin/python -m tests.mutation.report --fail-under 80

A mutant counts as *killed* when a test failed on it (exit 1 or 3), when it timed out (the
mutation made a loop endless: a test run that hangs fails under pytest-timeout too) or when
the type checker refused it. Everything else counts against the score: *survived* (the
tests passed with the mutation in place), *no tests* (no selected test reaches the
function) and mutants not checked yet.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

#: mutmut's exit codes (mutmut/stats.py) folded into the four outcomes the score needs.
KILLED_CODES = frozenset({1, 3, 36, 37, 24, -24, 152, 255})
SURVIVED_CODES = frozenset({0})
NO_TESTS_CODES = frozenset({5, 33})


@dataclass
class ModuleScore:
    path: str
    outcomes: Counter[str] = field(default_factory=Counter)
    not_killed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())

    @property
    def killed(self) -> int:
        return self.outcomes["killed"]

    @property
    def score(self) -> float | None:
        return 100.0 * self.killed / self.total if self.total else None


def outcome(exit_code: int | None) -> str:
    if exit_code is None:
        return "not checked"
    if exit_code in KILLED_CODES:
        return "killed"
    if exit_code in SURVIVED_CODES:
        return "survived"
    if exit_code in NO_TESTS_CODES:
        return "no tests"
    return "suspicious"


def mutated_paths(pyproject: Path) -> list[str]:
    config = tomllib.loads(pyproject.read_text("utf-8"))["tool"]["mutmut"]
    return list(config["only_mutate"])


def module_score(root: Path, path: str) -> ModuleScore:
    result = ModuleScore(path)
    meta = root / "mutants" / f"{path}.meta"
    if not meta.exists():
        return result
    codes: dict[str, int | None] = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
    for name, code in sorted(codes.items()):
        kind = outcome(code)
        result.outcomes[kind] += 1
        if kind != "killed":
            result.not_killed.append((name, kind))
    return result


def render(scores: list[ModuleScore], *, survivors: bool) -> str:
    lines = [f"{'module':<28} {'mutants':>7} {'killed':>6} {'survived':>8} {'no tests':>8} score"]
    for s in scores:
        shown = "   n/a" if s.score is None else f"{s.score:5.1f}%"
        lines.append(
            f"{s.path:<28} {s.total:>7} {s.killed:>6} {s.outcomes['survived']:>8} "
            f"{s.outcomes['no tests']:>8} {shown}"
        )
    total = sum(s.total for s in scores)
    killed = sum(s.killed for s in scores)
    if total:
        lines.append(
            f"{'all':<28} {total:>7} {killed:>6} {'':>8} {'':>8} {100 * killed / total:5.1f}%"
        )
    if survivors:
        for s in scores:
            for name, kind in s.not_killed:
                lines.append(f"  {kind:<11} {name}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repo root (has mutants/)")
    parser.add_argument("--survivors", action="store_true", help="list every mutant not killed")
    parser.add_argument("--json", type=Path, help="also write the scores to this file")
    parser.add_argument(
        "--fail-under", type=float, help="exit 1 if a measured module scores below this"
    )
    args = parser.parse_args(argv)
    scores = [module_score(args.root, p) for p in mutated_paths(args.root / "pyproject.toml")]
    if not any(s.total for s in scores):
        print("no mutmut results under mutants/: run `make mutate` first", file=sys.stderr)
        return 1
    print(render(scores, survivors=args.survivors))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    s.path: {
                        "mutants": s.total,
                        **dict(s.outcomes),
                        "score": None if s.score is None else round(s.score, 1),
                        "not_killed": [name for name, _ in s.not_killed],
                    }
                    for s in scores
                },
                indent=2,
            )
            + "\n"
        )
    if args.fail_under is not None:
        low = [s.path for s in scores if s.score is not None and s.score < args.fail_under]
        if low:
            print(f"below {args.fail_under:g}%: {', '.join(low)}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
