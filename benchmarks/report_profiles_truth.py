"""Employee skill profiles against the simulator's true skills: precision and recall.

Reads the profiles the serving bundle carries (default ``models/bundle/profiles``), and the
hidden true skills (``models/simulation_truth.json.gz``, evaluation only) held on the profiles'
date. Precision = profile skills truly held / profile skills; recall = truly held skills in the
profile / truly held skills; both micro-averaged over employees, reported separately for the
``tune`` and ``report`` halves (``benchmarks.simulation_truth.split_half``): settings are chosen
on ``tune``; the figure to quote is ``report``.

``--sweep`` rebuilds the profiles from the dated observations with other values of
``profiles.min_confidence``, ``profiles.needs_corroboration``,
``profiles.corroborating_score`` and ``profiles.asserted_engine_score`` (the rest of params.yaml
as shipped) and prints the figures on the ``tune`` half only.

    PYTHONPATH=. .venv/bin/python benchmarks/report_profiles_truth.py [--sweep]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path

from benchmarks.simulation_truth import split_half, true_skills
from features.domain import EmployeeProfile
from features.params import load_params
from features.profiles import build_employee_profile
from features.settings import get_settings
from inference.artifacts.profiles import read_profile_artifacts


def precision_recall(profiles: Mapping[str, EmployeeProfile],
                     truth: Mapping[str, frozenset[str]], half: str) -> dict[str, float | int]:
    shown = held_shown = held = 0
    people = 0
    for emp_id, profile in profiles.items():
        if split_half(emp_id) != half:
            continue
        people += 1
        skills = {e.skill_uri for e in profile.entries}
        true = truth.get(emp_id, frozenset())
        shown += len(skills)
        held_shown += len(skills & true)
        held += len(true)
    return {"employees": people,
            "precision": round(held_shown / shown, 3) if shown else 0.0,
            "recall": round(held_shown / held, 3) if held else 0.0,
            "mean_profile_skills": round(shown / people, 1) if people else 0.0,
            "mean_true_skills": round(held / people, 1) if people else 0.0}


def shown(value: object) -> str:
    """A sweep value as the key prints it: a list of sources joined by "+" ("none" if empty)."""
    if isinstance(value, list):
        return "+".join(value) or "none"
    return str(value)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", type=Path, default=None)
    parser.add_argument("--truth", type=Path, default=None)
    parser.add_argument("--sweep", action="store_true")
    args = parser.parse_args(argv)
    settings = get_settings()
    folder = args.profiles or settings.artifact_dir / "bundle" / "profiles"
    artifacts = read_profile_artifacts(folder, observations=args.sweep)
    truth = true_skills(args.truth or settings.artifact_dir / "simulation_truth.json.gz",
                        artifacts.as_of)
    out: dict[str, object] = {
        "profiles": str(folder), "as_of": str(artifacts.as_of),
        "tune": precision_recall(artifacts.employee_profiles, truth, "tune"),
        "report": precision_recall(artifacts.employee_profiles, truth, "report")}
    if args.sweep:
        params = load_params().profiles
        curve = {}
        variants = [{"needs_corroboration": weak, "min_confidence": threshold}
                    for weak in ([], ["past_role"], ["past_role", "current_role"])
                    for threshold in (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)]
        variants += [{"corroborating_score": score} for score in (0.0, 0.3, 0.5, 0.6, 1.0)]
        variants += [{"asserted_engine_score": score}
                     for score in (0.0, 0.15, 0.2, 0.225, 0.25, 0.3, 0.4, 0.5)]
        for update in variants:
            variant = params.model_copy(update=update)
            rebuilt = {emp_id: build_employee_profile(emp_id, artifacts.as_of, obs, variant)
                       for emp_id, obs in artifacts.observations.items()
                       if split_half(emp_id) == "tune"}
            key = " ".join(f"{name}={shown(value)}" for name, value in update.items())
            curve[key] = precision_recall(rebuilt, truth, "tune")
        out["tune_sweep"] = curve
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
