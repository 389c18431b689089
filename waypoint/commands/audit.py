"""``waypoint audit``: the fairness audit of a ranker (the gate before serving)."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from datetime import UTC, datetime
from typing import Any


def register(subparsers: Any) -> None:
    audit = subparsers.add_parser(
        "audit", help="fairness audit of a ranker on held-out candidate lists; exits 1 when "
        "the fairness gate fails")
    audit.add_argument("--version", help="registered model version (default: the one in "
                       "models/train_summary.json, loaded from models/bundle)")
    audit.add_argument("--json", action="store_true", help="print every figure as JSON")
    audit.add_argument("--advisory", action="store_true",
                       help="exit 0 even when the gate fails (the verdict is still recorded on "
                            "the model version and in the report)")
    audit.add_argument("--no-mitigation", action="store_true",
                       help="audit the model order, without serving-time fair re-ranking")
    audit.add_argument("--no-register", action="store_true",
                       help="do not record the verdict on the MLflow model version")
    audit.add_argument("--served", action="store_true",
                       help="audit served traffic from the served_lists audit log instead")
    audit.add_argument("--since", help="with --served: ISO date or datetime (UTC) to start at")
    audit.add_argument("--compare", action="store_true",
                       help="train the unmitigated ranker and the shipped pipeline on the "
                       "dataset and write models/reports/fairness_before_after.md")
    audit.add_argument("--mitigation", choices=("none", "drop_features", "massage", "both"),
                       help="with --compare: override fairness.mitigation.method")
    audit.set_defaults(func=run)


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def run(args: argparse.Namespace) -> int:
    from features.settings import get_settings
    from training.fairness.audit import read_audit_settings
    from training.ranking.ranker import read_params

    settings = get_settings()
    audit_settings = read_audit_settings()
    if args.served:
        from training.fairness.stage import audit_document, run_served_audit

        result = run_served_audit(settings, audit_settings, _since(args.since))
    elif args.compare:
        from training.fairness.compare import comparison_rows
        from training.fairness.mitigation import MitigationSettings
        from training.fairness.stage import run_compare

        values = audit_settings.mitigation
        if args.mitigation:
            values = values.model_validate({**values.model_dump(), "method": args.mitigation,
                                            "enabled": args.mitigation != "none"})
        mitigation = MitigationSettings.from_params(values, audit_settings.small_group_threshold)
        command = "waypoint " + " ".join(shlex.quote(a) for a in sys.argv[1:]) \
            if sys.argv[1:2] == ["audit"] else "waypoint audit --compare"
        comparison, path = run_compare(settings, read_params(), audit_settings, mitigation,
                                       command)
        rows = comparison_rows(comparison, audit_settings)
        if args.json:
            print(json.dumps({"rows": [{"figure": a, "unmitigated": b, "shipped": c}
                                       for a, b, c in rows], "report": str(path)}, indent=2))
        else:
            width = max(len(a) for a, _, _ in rows)
            for a, b, c in rows:
                print(f"{a:<{width}}  {b:>28}  {c:>28}")
            print(f"written: {path}")
        return 0 if comparison.shipped.result.passed else 1
    else:
        from training.fairness.stage import audit_document, run_audit_stage

        result, extra = run_audit_stage(settings, read_params(), audit_settings,
                                        version=args.version, rerank=not args.no_mitigation,
                                        register=not args.no_register)
        if args.json:
            print(json.dumps(audit_document(result, extra), indent=2))
    if not args.json:
        verdict = "PASSED" if result.passed else "FAILED"
        print(f"fairness gate {verdict}: {result.gate.n_checked} figures checked, "
              f"{len(result.gate.violations)} violations; lowest gated impact ratio "
              f"{result.min_impact_ratio()}")
        for line in result.gate.violations[:20]:
            print(f"  - {line}")
    if args.advisory and not result.passed:
        print("(advisory run: the failed verdict is recorded; exiting 0)", file=sys.stderr)
        return 0
    return 0 if result.passed else 1
