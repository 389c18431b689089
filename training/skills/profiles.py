"""Pipeline stage ``waypoint skills profiles``: skills for every text in the store, then profiles.

1. Every distinct text (review evidence and other records that do not name their skills,
   course, role and opportunity descriptions) goes through the engine once, per source kind,
   in encoder batches (``infer_batch``), in this process or on Ray (``training.batch``,
   ``--ray``).
2. Roles are linked to an ESCO occupation for its essential/optional skills: a role with an
   O*NET code takes the published O*NET -> ESCO mapping (``models/crosswalk/onet_esco.csv``,
   docs/crosswalk.md, with the HR admin's overrides on top; "none" means no ESCO occupation, so
   its requirements come from its own description and O*NET ratings); any other role is matched
   by title (encoder similarity over ESCO occupation labels and alternative labels). O*NET
   skill and knowledge ratings are mapped to ESCO skills by the engine (element name -> best
   skill).
3. Requirement profiles for roles and opportunities; observations for every employee (evidence
   and roles held, all dated) and their profiles as of the given date.

Writes into ``models/profiles/``: ``inferred_skills.jsonl.gz`` (per evidence / course / role /
opportunity), ``observations.jsonl.gz`` (dated, so the ranker can rebuild a profile as of any
past date with ``features.profiles.build_employee_profile``), ``employee_profiles.jsonl.gz``,
``requirements.jsonl.gz``, ``occupation_matches.json`` and ``summary.json``.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from features.domain import (
    Course,
    EmployeeProfile,
    Evidence,
    EvidenceKind,
    Move,
    OnetRatingKind,
    Opportunity,
    RelationType,
    RequirementProfile,
    Role,
)
from features.inferred_skills import InferredSkill, SourceKind
from features.profiles import (
    Observation,
    OnetSkillRating,
    ProfileParams,
    build_employee_profile,
    build_requirements,
    evidence_observations,
    held_role_observations,
    held_titles,
    named_skills,
)
from features.ranking_history import records_begin
from features.store import Store
from features.taxonomy import (
    ESCO_FILES,
    ONET_FILES,
    read_esco_occupations,
    read_occupation_skills,
    read_onet_ratings,
)
from inference.artifacts.profiles import write_profile_artifacts
from inference.skills.engine import SkillEngine
from training.batch import IN_PROCESS, BatchRunner, same

log = logging.getLogger(__name__)
EVIDENCE_SOURCE = {
    EvidenceKind.PERFORMANCE_REVIEW: SourceKind.PERFORMANCE_REVIEW,
    EvidenceKind.SELF_DECLARED: SourceKind.SELF_DESCRIPTION,
    EvidenceKind.MANAGER_ENDORSEMENT: SourceKind.PERFORMANCE_REVIEW,
    EvidenceKind.COURSE_COMPLETION: SourceKind.COURSE_DESCRIPTION,
}


TextBatch = tuple[SourceKind, tuple[str, ...]]
"""One encoder batch: a source kind and up to ``chunk`` of its distinct texts."""


def text_batches(texts: Mapping[SourceKind, Iterable[str]], chunk: int = 512,
                 ) -> list[TextBatch]:
    """Each distinct non-blank text once, sorted within its source, in batches of ``chunk``."""
    out: list[TextBatch] = []
    for source, items in texts.items():
        ordered = sorted({t for t in items if t.strip()})
        out += [(source, tuple(ordered[lo:lo + chunk])) for lo in range(0, len(ordered), chunk)]
    return out


def infer_batch(engine: SkillEngine, batch: TextBatch) -> list[tuple[InferredSkill, ...]]:
    """The skills of one encoder batch (the per-batch work of both runners)."""
    source, items = batch
    return [result.skills for result in engine.infer_many(list(items), source)]


def infer_texts(engine: SkillEngine | None, texts: Mapping[SourceKind, Iterable[str]],
                chunk: int = 512, runner: BatchRunner = IN_PROCESS,
                engine_loader: Callable[[], SkillEngine] | None = None,
                ) -> dict[tuple[SourceKind, str], tuple[InferredSkill, ...]]:
    """Each distinct (source, text) once, in encoder batches; on Ray each actor loads its
    engine with ``engine_loader``."""
    batches = text_batches(texts, chunk)
    results = runner.map(infer_batch, batches, setup=engine_loader, state=engine)
    return {(source, text): skills
            for (source, items), found in zip(batches, results, strict=True)
            for text, skills in zip(items, found, strict=True)}


ProfileBatch = tuple[tuple[str, tuple[Observation, ...]], ...]
"""Employees (id, their observations) whose profiles one part builds."""


def profile_batch(context: tuple[date, ProfileParams], batch: ProfileBatch,
                  ) -> list[EmployeeProfile]:
    """Profiles as of the context's date (the per-batch work of both runners)."""
    as_of, params = context
    return [build_employee_profile(employee_id, as_of, observations, params)
            for employee_id, observations in batch]


def build_profiles(employee_ids: Sequence[str], observations: Mapping[str, Sequence[Observation]],
                   as_of: date, params: ProfileParams, runner: BatchRunner = IN_PROCESS,
                   chunk: int = 2000) -> list[EmployeeProfile]:
    """Every employee's profile as of ``as_of``, in ``employee_ids`` order."""
    batches = [tuple((e, tuple(observations.get(e, ()))) for e in employee_ids[lo:lo + chunk])
               for lo in range(0, len(employee_ids), chunk)]
    found = runner.map(profile_batch, batches, setup=partial(same, (as_of, params)))
    return [profile for part in found for profile in part]


def match_occupations(engine: SkillEngine, titles: Sequence[str], data_dir: Path,
                      min_sim: float = 0.6) -> dict[str, tuple[str, float]]:
    """Role title -> (ESCO occupation URI, similarity) by the engine's encoder."""
    occupations = list(read_esco_occupations(data_dir / ESCO_FILES["occupations"]))
    names: list[str] = []
    owners: list[int] = []
    for i, occ in enumerate(occupations):
        for name in (occ.label, *occ.alt_labels):
            names.append(name)
            owners.append(i)
    if not titles:
        return {}
    occ_vectors = engine.encoder.encode(names, batch_size=256)
    title_vectors = engine.encoder.encode(list(titles), batch_size=256)
    sims = title_vectors @ occ_vectors.T
    best = sims.argmax(axis=1)
    out: dict[str, tuple[str, float]] = {}
    for title, j, row in zip(titles, best.tolist(), sims, strict=True):
        if float(row[j]) >= min_sim:
            out[title] = (occupations[owners[j]].uri, round(float(row[j]), 4))
    return out


def onet_ratings_by_code(engine: SkillEngine, data_dir: Path,
                         ) -> dict[str, list[OnetSkillRating]]:
    """O*NET skill/knowledge ratings per occupation code, elements mapped to ESCO skills."""
    ratings = [*read_onet_ratings(data_dir / ONET_FILES["skills"], OnetRatingKind.SKILL),
               *read_onet_ratings(data_dir / ONET_FILES["knowledge"], OnetRatingKind.KNOWLEDGE)]
    elements = sorted({r.element_name for r in ratings})
    results = engine.infer_many(elements, SourceKind.JOB_DESCRIPTION, top_k=1)
    element_uri = {name: result.skills[0].uri for name, result in zip(elements, results,
                                                                       strict=True)
                   if result.skills}
    out: dict[str, list[OnetSkillRating]] = defaultdict(list)
    for r in ratings:
        uri = element_uri.get(r.element_name)
        if uri is not None:
            out[r.code].append(OnetSkillRating(skill_uri=uri,
                                               importance=min(5.0, max(1.0, r.importance)),
                                               level=min(7.0, max(0.0, r.level))))
    return out


def role_occupations(roles: Sequence[Role], engine: SkillEngine, data_dir: Path,
                     crosswalk: Mapping[str, str | None]) -> dict[str, tuple[str, float]]:
    """Role id -> (ESCO occupation URI, score): the crosswalk for roles with an O*NET code it
    covers (no entry where it says none), the encoder title match for the others."""
    out: dict[str, tuple[str, float]] = {}
    by_title = [r for r in roles if (r.onet_code or "") not in crosswalk]
    matched = match_occupations(engine, sorted({r.title for r in by_title}), data_dir)
    for role in roles:
        code = role.onet_code or ""
        if code in crosswalk:
            uri = crosswalk[code]
            if uri is not None:
                out[role.id] = (uri, 1.0)
        elif role.title in matched:
            out[role.id] = matched[role.title]
    return out


def profile_texts(evidence: Iterable[Evidence], courses: Sequence[Course],
                  roles: Iterable[Role], opportunities: Iterable[Opportunity],
                  ) -> dict[SourceKind, set[str]]:
    """The texts the profiles stage infers skills from, by source kind: every course, role and
    opportunity description, and the text of each evidence record that does not name its
    skills (`features.profiles.named_skills`: a named record is evidence of those only, so its
    text, a course title or a comment, is not read)."""
    course_skills = {c.id: c.skill_uris for c in courses}
    texts: dict[SourceKind, set[str]] = defaultdict(set)
    for item in evidence:
        if item.text.strip() and not named_skills(item, course_skills):
            texts[EVIDENCE_SOURCE[item.kind]].add(item.text)
    for course in courses:
        texts[SourceKind.COURSE_DESCRIPTION].add(course.description)
    for role in roles:
        texts[SourceKind.JOB_DESCRIPTION].add(role.description)
    for opp in opportunities:
        texts[SourceKind.JOB_DESCRIPTION].add(opp.description)
    return texts


def build_all_profiles(store: Store, engine: SkillEngine, data_dir: Path, as_of: date,
                       out_dir: Path, params: ProfileParams,
                       crosswalk: Mapping[str, str | None] | None = None,
                       runner: BatchRunner = IN_PROCESS,
                       engine_loader: Callable[[], SkillEngine] | None = None,
                       text_chunk: int = 512, profile_chunk: int = 2000) -> dict[str, Any]:
    """Skills for every text, then requirement and employee profiles, written to ``out_dir``.
    With a Ray ``runner`` the inference (encoder batches of ``text_chunk`` texts) and the
    employee profiles (parts of ``profile_chunk`` people) run as Ray Data pipelines, each actor
    loading its engine with ``engine_loader``; the results are the same."""
    started = time.perf_counter()
    employees, roles = store.employees(), store.roles()
    opportunities, courses = store.opportunities(), store.courses()
    evidence, moves = store.evidence(), store.moves()

    texts = profile_texts(evidence, courses, roles, opportunities)
    inferred = infer_texts(engine, texts, text_chunk, runner, engine_loader)
    inference_seconds = time.perf_counter() - started

    relations: dict[str, dict[str, RelationType]] = defaultdict(dict)
    for rel in read_occupation_skills(data_dir / ESCO_FILES["occupation_skills"]):
        relations[rel.occupation_uri][rel.skill_uri] = rel.relation
    occupation_of = role_occupations(roles, engine, data_dir, crosswalk or {})
    onet = onet_ratings_by_code(engine, data_dir)

    role_profiles: dict[str, RequirementProfile] = {}
    for role in roles:
        occ = occupation_of.get(role.id)
        role_profiles[role.id] = build_requirements(
            role.id, inferred.get((SourceKind.JOB_DESCRIPTION, role.description), ()),
            relations.get(occ[0], {}) if occ else {},
            onet.get(role.onet_code or "", []), role.level,
            max_requirements=params.max_requirements,
            min_inferred_score=params.asserted_engine_score)
    opportunity_profiles: list[RequirementProfile] = []
    role_by_id = {role.id: role for role in roles}
    for opp in opportunities:
        opp_role = role_by_id.get(opp.role_id or "")
        occ = occupation_of.get(opp_role.id) if opp_role else None
        opportunity_profiles.append(build_requirements(
            opp.id, inferred.get((SourceKind.JOB_DESCRIPTION, opp.description), ()),
            relations.get(occ[0], {}) if occ else {},
            onet.get(opp_role.onet_code or "", []) if opp_role else [], opp.level,
            explicit=opp.skill_uris, max_requirements=params.max_requirements,
            min_inferred_score=params.asserted_engine_score))

    course_skills = {c.id: c.skill_uris for c in courses}
    course_text = {c.id: c.description for c in courses}
    moves_by_employee: dict[str, list[Move]] = defaultdict(list)
    for move in moves:
        moves_by_employee[move.employee_id].append(move)
    titles = held_titles(employees, moves_by_employee, {role.id: role.title for role in roles})
    by_employee: dict[str, list[Observation]] = defaultdict(list)
    evidence_rows: list[dict[str, Any]] = []
    for item in evidence:
        source = EVIDENCE_SOURCE[item.kind]
        named = named_skills(item, course_skills)
        found = (inferred.get((source, item.text), ()) if item.text.strip() and not named
                 else ())
        if item.kind is EvidenceKind.COURSE_COMPLETION and not found and not named:
            found = inferred.get((SourceKind.COURSE_DESCRIPTION,
                                  course_text.get(item.course_id or "", "")), ())
        evidence_rows.append({"kind": "evidence", "id": item.id, "employee_id": item.employee_id,
                              "occurred_on": item.occurred_on.isoformat(), "source": source.value,
                              "named_skill_uris": list(named),
                              "skills": [s.model_dump(mode="json") for s in found]})
        by_employee[item.employee_id].extend(evidence_observations(
            item, found, course_skills, params, titles.get(item.employee_id, ())))
    role_levels = {role.id: role.level for role in roles}
    since = records_begin(moves, opportunities)
    for emp in employees:
        by_employee[emp.id].extend(held_role_observations(
            emp, moves_by_employee.get(emp.id, []), role_profiles, role_levels, since))
    profiles = build_profiles([emp.id for emp in employees], by_employee, as_of, params, runner,
                              profile_chunk)

    described = [{"kind": kind, "id": subject_id,
                  "skills": [s.model_dump(mode="json") for s in inferred.get(
                      (source, text), ())]}
                 for kind, source, items in (
                     ("course", SourceKind.COURSE_DESCRIPTION,
                      [(c.id, c.description) for c in courses]),
                     ("role", SourceKind.JOB_DESCRIPTION, [(r.id, r.description) for r in roles]),
                     ("opportunity", SourceKind.JOB_DESCRIPTION,
                      [(o.id, o.description) for o in opportunities]))
                 for subject_id, text in items]
    entries = [len(p.entries) for p in profiles]
    return write_profile_artifacts(
        out_dir, as_of=as_of, inferred=[*evidence_rows, *described], observations=by_employee,
        profiles=profiles, role_requirements=role_profiles.values(),
        opportunity_requirements=opportunity_profiles, occupation_matches=occupation_of,
        summary={
            "encoder": engine.encoder.name,
            "distinct_texts": sum(len(v) for v in texts.values()),
            "inference_seconds": round(inference_seconds, 1),
            "total_seconds": round(time.perf_counter() - started, 1),
            "roles_matched_to_esco": f"{len(occupation_of)}/{len(roles)}",
            "mean_skills_per_employee": round(float(np.mean(entries)), 1) if entries else 0.0,
            "runner": runner.name, "params": params.model_dump(mode="json")})
