"""``waypoint skills ...``: the skills engine's verbs.

- ``skills index``: build the label-embedding caches (FAISS) of each variant into
  ``models/skills/`` and tune/calibrate its re-scoring on the validation sets; ``--serving``
  builds the variant params ``skills_engine.variant`` names and makes it the one engine;
- ``skills train-encoder``: train the domain-adapted encoder, distill its static variant;
- ``skills evaluate``: TECH/HOUSE MRR and RP@5 and throughput of every variant, side by side;
- ``skills infer``: JSON lines in, skills out;
- ``skills profiles``: infer skills for every evidence text and description in the store and
  write employee and role/opportunity profiles into ``models/profiles/``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from features.errors import WaypointError
from waypoint.commands.ray_options import add_ray_arguments

log = logging.getLogger("waypoint.skills")
SOURCES = ("job_description", "course_description", "performance_review", "self_description")
VARIANT_HELP = ("baseline, baseline-int8, trained, trained-int8, static, or profiles: the one "
                "engine the profiles stage, the API and this command use by default "
                "(models/skills/serving.json)")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("skills", help="skills engine: index, train, evaluate, infer")
    verbs = parser.add_subparsers(dest="skills_command", required=True, metavar="VERB")

    index = verbs.add_parser("index", help="build label-embedding caches and calibrate them")
    index.add_argument("--variant", action="append", dest="variants",
                       help="variant(s) to build (default: every one whose encoder exists)")
    index.add_argument("--no-tune", action="store_true", help="skip tuning and calibration")
    index.add_argument("--force", action="store_true", help="rebuild caches that exist")
    index.add_argument("--serving", action="store_true",
                       help="build the variant params skills_engine.variant names and make it "
                            "the one engine (models/skills/serving.json)")
    index.add_argument("--params", type=Path, default=None,
                       help="parameters file (default: the project's params.yaml)")
    index.set_defaults(func=run_index)

    train = verbs.add_parser("train-encoder", help="train the domain-adapted skill encoder")
    train.add_argument("--params", type=Path, default=None,
                       help="parameters file (default: the project's params.yaml)")
    train.add_argument("--steps", type=int, help="override skills_encoder.train.steps")
    train.add_argument("--no-static", action="store_true",
                       help="skip the static model (distillation and tuning)")
    train.add_argument("--static-only", action="store_true",
                       help="only the static model: distill it from its teacher "
                            "(skills_encoder.static_teacher) and fine-tune it")
    train.add_argument("--refresh-pseudo-labels", action="store_true",
                       help="recompute the SkillSpan spans' nearest ESCO labels and rewrite "
                            "data/skillspan_pseudo_labels.tsv (training/skills/pseudo_labels.py)")
    train.set_defaults(func=run_train)

    evaluate = verbs.add_parser("evaluate", help="MRR / RP@5 / speed on TECH and HOUSE")
    evaluate.add_argument("--variant", action="append", dest="variants", metavar="NAME",
                          help=f"variant(s) to evaluate (default: every available one): "
                               f"{VARIANT_HELP}")
    evaluate.add_argument("--repeats", type=int, default=2, help="timing repeats (best kept)")
    evaluate.add_argument("--out", type=Path, help="report folder (default: models/reports)")
    evaluate.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    evaluate.set_defaults(func=run_evaluate)

    infer = verbs.add_parser("infer", help='JSON lines {"id","text"} on stdin -> skills on stdout')
    infer.add_argument("--source", required=True, choices=SOURCES)
    infer.add_argument("--top-k", type=int, help="return the N best skills, no threshold")
    infer.add_argument("--variant", metavar="NAME", help=f"engine variant: {VARIANT_HELP}")
    infer.add_argument("--batch", type=int, default=256, help="texts per encoding batch")
    infer.set_defaults(func=run_infer)

    profiles = verbs.add_parser("profiles", help="build employee and role skill profiles")
    profiles.add_argument("--as-of", type=date.fromisoformat,
                          help="profile date (default: simulate.as_of for the simulated "
                          "organization, organization.as_of or today for an imported one)")
    profiles.add_argument("--variant", metavar="NAME",
                          help=f"engine variant (default: the one engine): {VARIANT_HELP}")
    profiles.add_argument("--params", type=Path, default=None,
                          help="parameters file (default: the project's params.yaml)")
    profiles.add_argument("--out", type=Path, help="output folder (default: models/profiles)")
    profiles.add_argument("--processes", type=int, metavar="N", default=min(2, os.cpu_count() or 1),
                          help="without Ray, local processes for the skills inference over every "
                               "text (default: 2, or 1 on a one-core machine; 1 = this process); "
                               "the same profiles either way")
    add_ray_arguments(profiles)
    profiles.set_defaults(func=run_profiles)


# ------------------------------------------------------------------ index


def _available_bases(artifact_dir: Path) -> list[str]:
    from inference.skills.artifacts import encoder_dir, static_dir

    bases = ["baseline"]
    if (encoder_dir(artifact_dir) / "modules.json").is_file():
        bases.append("trained")
    if (static_dir(artifact_dir) / "config.json").is_file():
        bases.append("static")
    return bases


def build_index(variant: str, tune: bool, force: bool,
                params_file: Path | None = None) -> dict[str, Any]:
    from dataclasses import replace

    from features.params import load_params
    from features.settings import get_settings
    from inference.skills.artifacts import (
        encoder_spec,
        index_dir,
        load_config,
        save_config,
        variant_available,
    )
    from inference.skills.catalog import SkillCatalog
    from inference.skills.encoder import load_encoder
    from inference.skills.engine import SkillEngine
    from inference.skills.index import SkillIndex

    settings = get_settings()
    engine_params = load_params(params_file).skills_engine
    catalog = SkillCatalog.from_data_dir(settings.data_dir)
    folder = index_dir(settings.artifact_dir, variant)
    base = replace(load_config(folder), two_stage_search=engine_params.two_stage_search,
                   distinct_max_similarity=engine_params.distinct_max_similarity)
    encoder = load_encoder(encoder_spec(settings.artifact_dir, variant))
    if force or not variant_available(settings.artifact_dir, variant):
        started = time.perf_counter()
        index = SkillIndex.build(catalog, encoder)
        index.save(folder, {"build_seconds": round(time.perf_counter() - started, 1)})
    else:
        index = SkillIndex.load(folder, catalog)
    summary: dict[str, Any] = {"variant": variant, "folder": str(folder),
                               "texts": len(catalog.texts)}
    if tune:
        from training.skills.evaluate import load_benchmarks, tune_config

        sets = load_benchmarks(settings.benchmarks_dir, catalog)
        engine = SkillEngine(index, encoder, replace(base, two_stage_search=False))
        config, figures = tune_config(engine, sets)
        base = replace(config, two_stage_search=engine_params.two_stage_search)
        summary["tuning"] = figures
    save_config(folder, base)
    return summary


def run_index(args: argparse.Namespace) -> int:
    from features.params import load_params
    from features.settings import get_settings
    from inference.skills.artifacts import write_serving_pointer

    artifact_dir = get_settings().artifact_dir
    serving = load_params(args.params).skills_engine.variant if args.serving else None
    variants = args.variants or ([serving] if serving else _available_bases(artifact_dir))
    if serving and serving.removesuffix("-int8") not in {v.removesuffix("-int8")
                                                          for v in variants}:
        variants = [*variants, serving]
    for variant in variants:
        summary = build_index(variant.removesuffix("-int8"), not args.no_tune, args.force,
                              args.params)
        print(json.dumps(summary))
    if serving:
        print(json.dumps({"serving": serving,
                          "pointer": str(write_serving_pointer(artifact_dir, serving))}))
    return 0


# ------------------------------------------------------------------ train


def run_train(args: argparse.Namespace) -> int:
    """Train the transformer encoder (unless ``--static-only``), then distill the static model
    from the teacher ``skills_encoder.static_teacher`` names and fine-tune its token table
    (unless ``--no-static``)."""
    from features.settings import get_settings
    from inference.skills.artifacts import encoder_dir, static_dir
    from inference.skills.catalog import SkillCatalog
    from inference.skills.encoder import load_encoder, resolve_transformer_path
    from training.skills.encoder import (
        build_training_pairs,
        distill_static,
        read_params,
        train_encoder,
    )
    from training.skills.evaluate import benchmark_sentences
    from training.skills.static_tuning import tune_static

    settings = get_settings()
    artifact_dir = settings.artifact_dir
    section = read_params(args.params)
    params = section.train
    if args.steps:
        params = params.model_copy(update={"steps": args.steps})
    catalog = SkillCatalog.from_data_dir(settings.data_dir)
    labeler = load_encoder(params.base, max_seq_length=params.max_seq_length,
                           threads=params.threads)
    excluded = benchmark_sentences(settings.benchmarks_dir)

    def pairs_for(total: int) -> tuple[list[tuple[str, str]], dict[str, Any]]:
        started = time.perf_counter()
        pairs, stats = build_training_pairs(catalog, settings.data_dir, excluded, labeler,
                                            params, total=total,
                                            refresh_pseudo_labels=args.refresh_pseudo_labels)
        stats["pair_building_seconds"] = round(time.perf_counter() - started, 1)
        log.info("%d training pairs: %s", len(pairs), stats)
        return pairs, stats

    if not args.static_only:
        pairs, stats = pairs_for(params.steps * params.batch_size)
        report = train_encoder(pairs, params, resolve_transformer_path(params.base),
                               encoder_dir(artifact_dir), stats)
        print(json.dumps({k: report[k] for k in ("train_seconds", "steps", "pairs", "host",
                                                 "loss_first_50", "loss_last_50")}))
    if args.no_static:
        return 0
    teacher = (encoder_dir(artifact_dir) if section.static_teacher == "trained"
               else resolve_transformer_path(params.base))
    if not (teacher / "config.json").is_file():
        raise WaypointError(f"the static model's teacher {teacher} is missing: run "
                            "`waypoint skills train-encoder` (skills_encoder.static_teacher is "
                            "'trained')")
    distilled = distill_static(teacher, static_dir(artifact_dir), catalog,
                               section.static_pca_dims, threads=params.threads)
    print(json.dumps(distilled))
    tuning = section.static_tuning
    if tuning.steps:
        pairs, stats = pairs_for(tuning.steps * tuning.batch_size)
        tuned = tune_static(static_dir(artifact_dir), pairs, tuning, params.threads,
                            {"teacher": str(teacher), **stats})
        print(json.dumps({k: tuned[k] for k in ("seconds", "steps", "pairs", "host",
                                                "loss_first_20", "loss_last_20")}))
    return 0


# ------------------------------------------------------------------ evaluate


def run_evaluate(args: argparse.Namespace) -> int:
    """One table: off-the-shelf MiniLM, each variant with artifacts, and the one engine (the
    profiles' and the API's), every figure on a set its configuration was not tuned on."""
    from features.settings import PACKAGED_ENCODER, get_settings
    from inference.skills.artifacts import (
        VARIANTS,
        load_variant,
        serving_variant,
        variant_available,
    )
    from inference.skills.catalog import SkillCatalog
    from inference.skills.encoder import load_encoder
    from training.skills.evaluate import load_benchmarks, write_report
    from training.skills.held_apart import evaluate_held_apart, evaluate_off_the_shelf

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    settings = get_settings()
    catalog = SkillCatalog.from_data_dir(settings.data_dir)
    sets = load_benchmarks(settings.benchmarks_dir, catalog)
    served = serving_variant(settings.artifact_dir)
    wanted = args.variants or list(VARIANTS)
    results = [evaluate_off_the_shelf(catalog, load_encoder(PACKAGED_ENCODER), sets)]
    notes = {"baseline": "packaged MiniLM + engine (phrases, alt labels, descriptions, "
                         "exact/alias bonus, technology names, near-duplicates, re-scoring)",
             "trained": "domain-adapted MiniLM (models/skill_encoder) + engine",
             "static": "model2vec static model distilled from the teacher of "
                       "`skills_encoder.static_teacher` (params.yaml), its token table tuned "
                       "contrastively (`skills_encoder.static_tuning`), + engine"}
    for variant in wanted:
        if variant == "profiles":
            variant = served
        if not variant_available(settings.artifact_dir, variant):
            log.warning("skipping %s: no artifacts (run `waypoint skills index`)", variant)
            continue
        engine = load_variant(settings, variant, catalog)
        name = (f"{variant} = the profiles / serving engine" if variant == served else variant)
        note = notes.get(variant, "int8 dynamic quantization of the query encoder; fp32 label "
                                  "cache of its base variant")
        results.append(evaluate_held_apart(engine, sets, name, args.repeats, note))
        log.info("%s: %s", name, results[-1].sets)
    command = "waypoint skills evaluate" + "".join(
        f" --variant {v}" for v in (args.variants or [])) + (
        f" --threads {args.threads}" if args.threads else "")
    out = args.out or settings.artifact_dir / "reports"
    json_path, md_path = write_report(results, sets, out, command)
    print(md_path.read_text())
    print(f"wrote {json_path} and {md_path}", file=sys.stderr)
    return 0


# ------------------------------------------------------------------ infer


class BadInputLine(WaypointError):
    pass


def parse_line(number: int, line: str) -> tuple[Any, str]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadInputLine(f"line {number}: not valid JSON ({exc.msg})") from None
    if not isinstance(record, dict) or "text" not in record or "id" not in record:
        raise BadInputLine(f'line {number}: expected an object with "id" and "text"')
    if not isinstance(record["text"], str):
        raise BadInputLine(f'line {number}: "text" must be a string')
    return record["id"], record["text"]


def run_infer(args: argparse.Namespace) -> int:
    from features.inferred_skills import SourceKind
    from features.settings import get_settings
    from inference.skills.artifacts import load_engine

    if args.top_k is not None and args.top_k < 1:
        raise WaypointError("--top-k must be at least 1")
    records: list[tuple[Any, str]] = []
    for number, line in enumerate(sys.stdin, start=1):
        if line.strip():
            records.append(parse_line(number, line))
    engine = load_engine(get_settings(), args.variant)
    source = SourceKind(args.source)
    started = time.perf_counter()
    for lo in range(0, len(records), args.batch):
        chunk = records[lo:lo + args.batch]
        results = engine.infer_many([text for _, text in chunk], source, top_k=args.top_k)
        for (record_id, _), result in zip(chunk, results, strict=True):
            skills = [s.model_dump(mode="json", exclude_none=True) for s in result.skills]
            sys.stdout.write(json.dumps({"id": record_id, "skills": skills}) + "\n")
        sys.stdout.flush()
        if len(records) > args.batch:
            print(f"skills infer: {min(lo + args.batch, len(records))}/{len(records)} texts "
                  f"({time.perf_counter() - started:.0f}s)", file=sys.stderr)
    return 0


# ------------------------------------------------------------------ profiles


def run_profiles(args: argparse.Namespace) -> int:
    from functools import partial

    from features.params import load_params
    from features.settings import get_settings
    from features.store import Store
    from inference.skills.artifacts import load_engine
    from training.batch import runner_for
    from training.simulation.crosswalk_file import read_mapping, read_overrides
    from training.skills.profiles import build_all_profiles

    settings = get_settings()
    params = load_params(args.params)
    as_of = args.as_of or params.organization_as_of()
    engine = load_engine(settings, args.variant)
    store = Store(settings.database_url)
    out = args.out or settings.artifact_dir / "profiles"
    mapping = settings.artifact_dir / "crosswalk" / "onet_esco.csv"
    crosswalk = {**(read_mapping(mapping) if mapping.is_file() else {}),
                 **read_overrides(settings.crosswalk_overrides)}
    summary = build_all_profiles(store, engine, settings.data_dir, as_of, out, params.profiles,
                                 crosswalk=crosswalk,
                                 runner=runner_for(args.ray, args.ray_actors, args.processes),
                                 engine_loader=partial(load_engine, settings, args.variant))
    print(json.dumps(summary, indent=2))
    return 0
