"""``waypoint titles``: job titles (JSON lines ``{"id", "text"}`` on stdin) to ESCO occupations
(``{"id", "occupations": [{"uri", "label", "score", "onet_code"}]}`` lines, best first);
``waypoint titles build`` / ``evaluate``: tune and ship / measure the title index.

A malformed line stops the command with exit status 2 and an error naming its line number;
the lines before it have been answered. An empty or junk title gets an empty list.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from inference.titles import TitleMatcher
from inference.titles.requests import TitleIn, match_titles, parse_line

TITLES_FOLDER = Path("occupations") / "titles"
BATCH = 256


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "titles", help="job titles (JSON lines on stdin) to ESCO occupations")
    parser.add_argument("--top-k", type=int, default=5, help="occupations per title (default 5)")
    parser.set_defaults(func=run)
    verbs = parser.add_subparsers(dest="titles_verb", metavar="{build,evaluate}")
    build = verbs.add_parser("build", help="tune on the tune half and write the title index")
    build.add_argument("--out", type=Path, default=None,
                       help="folder (default <artifact_dir>/occupations/titles)")
    build.set_defaults(func=run_build)
    evaluate = verbs.add_parser(
        "evaluate", help="MRR, recall@1/5/10 and throughput on the report half")
    evaluate.add_argument("--out", type=Path, default=None, help="also write the table here")
    evaluate.set_defaults(func=run_evaluate)


def _matcher() -> TitleMatcher:
    from features.settings import get_settings
    from inference.titles import load_matcher

    return load_matcher(get_settings().artifact_dir / TITLES_FOLDER)


def run(args: argparse.Namespace) -> int:
    if args.top_k < 1:
        raise SystemExit("waypoint titles: error: --top-k must be at least 1")
    return write_titles(sys.stdin, _matcher(), args.top_k, sys.stdout)


def write_titles(lines: Iterable[str], matcher: TitleMatcher, top_k: int, out: IO[str]) -> int:
    """Answer every line in batches; a malformed line raises after the lines before it."""
    batch: list[TitleIn] = []

    def flush() -> None:
        for row in match_titles(matcher, batch, top_k):
            out.write(json.dumps(row.model_dump(mode="json")) + "\n")
        out.flush()
        batch.clear()

    try:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            batch.append(parse_line(line, number))
            if len(batch) >= BATCH:
                flush()
    finally:
        flush()
    return 0


def run_build(args: argparse.Namespace) -> int:
    from features.settings import get_settings
    from training.occupations.titles_stage import build

    settings = get_settings()
    meta = build(settings, args.out or settings.artifact_dir / TITLES_FOLDER)
    print(json.dumps({"settings": meta["settings"], "seconds": meta["seconds"]}))
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from features.settings import get_settings
    from training.occupations.titles_stage import evaluate, metrics_table

    matcher = _matcher()
    table = metrics_table(evaluate(get_settings(), matcher), matcher.settings)
    print(table, end="")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table)
    return 0
