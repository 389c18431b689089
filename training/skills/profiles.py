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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from features.domain import (
    Course,
    Employee,
    EmployeeProfile,
    Evidence,
    EvidenceKind,
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
from features.store import Store
from features.taxonomy import (
    ESCO_FILES,
    ONET_FILES,
    read_esco_occupations,
    read_occupation_skills,
    read_onet_ratings,
)
from inference.artifacts.profiles import ProfileArtifactWriter
from inference.skills.engine import SkillEngine
from training.batch import IN_PROCESS, BatchRunner, same
from training.skills.inferred_texts import LOOKUP_PAGE, InferredTexts, TextKey

log = logging.getLogger(__name__)
EVIDENCE_SOURCE = {
    EvidenceKind.PERFORMANCE_REVIEW: SourceKind.PERFORMANCE_REVIEW,
    EvidenceKind.SELF_DECLARED: SourceKind.SELF_DESCRIPTION,
    EvidenceKind.MANAGER_ENDORSEMENT: SourceKind.PERFORMANCE_REVIEW,
    EvidenceKind.COURSE_COMPLETION: SourceKind.COURSE_DESCRIPTION,
}


EMPLOYEE_PAGE = 5000
"""Employees read from the store at a time (with their evidence and moves)."""
PROFILE_WINDOW = 8
"""Parts of employees in flight at once for their profiles."""

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


def employee_pages(store: Store, size: int) -> Iterator[list[Employee]]:
    """Every employee, in primary-key order, ``size`` at a time."""
    offset = 0
    while page := store.employees(limit=size, offset=offset):
        yield page
        offset += len(page)


def all_evidence(store: Store, page: int) -> Iterator[Evidence]:
    """Every evidence record, read for ``page`` employees at a time."""
    for employees in employee_pages(store, page):
        found = store.evidence_of(e.id for e in employees)
        for emp in employees:
            yield from found.get(emp.id, ())


def infer_into(cache: InferredTexts, engine: SkillEngine | None,
               texts: Mapping[SourceKind, Iterable[str]], chunk: int = 512,
               runner: BatchRunner = IN_PROCESS,
               engine_loader: Callable[[], SkillEngine] | None = None) -> None:
    """`infer_texts`, streamed into ``cache`` batch by batch as the runner finishes them."""
    batches = text_batches(texts, chunk)
    if engine is not None and (engine_loader is None or len(batches) < 2):
        runner = IN_PROCESS  # the engine at hand: nothing to spread, or no way to load it
    found = runner.stream(infer_batch, batches, setup=engine_loader, state=engine)
    started, done, total = time.perf_counter(), 0, sum(len(items) for _, items in batches)
    for number, ((source, items), skills) in enumerate(zip(batches, found, strict=True), 1):
        cache.add(((source, text), item) for text, item in zip(items, skills, strict=True))
        done += len(items)
        if number % 20 == 0 or number == len(batches):
            seconds = time.perf_counter() - started
            log.info("skills profiles: %d/%d texts inferred (%.0f s, %.0f texts/s)", done,
                     total, seconds, done / max(seconds, 1e-9))


def build_all_profiles(store: Store, engine: SkillEngine, data_dir: Path, as_of: date,
                       out_dir: Path, params: ProfileParams,
                       crosswalk: Mapping[str, str | None] | None = None,
                       runner: BatchRunner = IN_PROCESS,
                       engine_loader: Callable[[], SkillEngine] | None = None,
                       text_chunk: int = 512, profile_chunk: int = 2000,
                       employee_page: int = EMPLOYEE_PAGE) -> dict[str, Any]:
    """Skills for every text, then requirement and employee profiles, written to ``out_dir``.
    With a Ray ``runner`` the inference (encoder batches of ``text_chunk`` texts) and the
    employee profiles (parts of ``profile_chunk`` people) run as Ray Data pipelines, each actor
    loading its engine with ``engine_loader``; the results are the same.

    The stage streams, so that its memory does not grow with the organization: the distinct
    texts are gathered (strings only) and their skills go to an on-disk `InferredTexts` as the
    runner finishes each batch; then employees are read ``employee_page`` at a time with their
    evidence and moves, and their inferred rows, observations and profiles are written to the
    artifact files as they are made."""
    started = time.perf_counter()
    roles, opportunities, courses = store.roles(), store.opportunities(), store.courses()
    with InferredTexts(out_dir.parent if out_dir.parent.is_dir() else None) as cache, \
            ProfileArtifactWriter(out_dir) as writer:
        texts = profile_texts(all_evidence(store, employee_page), courses, roles, opportunities)
        distinct = sum(len(v) for v in texts.values())
        infer_into(cache, engine, texts, text_chunk, runner, engine_loader)
        del texts
        inference_seconds = time.perf_counter() - started
        log.info("profiles: %d distinct texts inferred (%.0fs)", distinct, inference_seconds)

        relations: dict[str, dict[str, RelationType]] = defaultdict(dict)
        for rel in read_occupation_skills(data_dir / ESCO_FILES["occupation_skills"]):
            relations[rel.occupation_uri][rel.skill_uri] = rel.relation
        occupation_of = role_occupations(roles, engine, data_dir, crosswalk or {})
        onet = onet_ratings_by_code(engine, data_dir)
        described = cache.get([*((SourceKind.COURSE_DESCRIPTION, c.description) for c in courses),
                               *((SourceKind.JOB_DESCRIPTION, r.description) for r in roles)])

        role_profiles: dict[str, RequirementProfile] = {}
        for role in roles:
            occ = occupation_of.get(role.id)
            role_profiles[role.id] = build_requirements(
                role.id, described.get((SourceKind.JOB_DESCRIPTION, role.description), ()),
                relations.get(occ[0], {}) if occ else {},
                onet.get(role.onet_code or "", []), role.level,
                max_requirements=params.max_requirements,
                min_inferred_score=params.asserted_engine_score)
        opportunity_profiles = opportunity_requirements(
            cache, opportunities, {role.id: role for role in roles}, occupation_of, relations,
            onet, params)

        course_skills = {c.id: c.skill_uris for c in courses}
        course_text = {c.id: c.description for c in courses}
        context = EmployeeContext(
            cache=cache, course_skills=course_skills, course_text=course_text,
            role_titles={role.id: role.title for role in roles}, role_profiles=role_profiles,
            role_levels={role.id: role.level for role in roles}, since=store.records_begin(),
            params=params, writer=writer)
        entries: list[int] = []
        for found in runner.stream(
                profile_batch, employee_parts(store, context, employee_page, profile_chunk),
                setup=partial(same, (as_of, params)), window=PROFILE_WINDOW):
            writer.profiles(found)
            entries += [len(p.entries) for p in found]

        for kind, source, items in (
                ("course", SourceKind.COURSE_DESCRIPTION,
                 [(c.id, c.description) for c in courses]),
                ("role", SourceKind.JOB_DESCRIPTION, [(r.id, r.description) for r in roles]),
                ("opportunity", SourceKind.JOB_DESCRIPTION,
                 [(o.id, o.description) for o in opportunities])):
            for lo in range(0, len(items), LOOKUP_PAGE):
                page = items[lo:lo + LOOKUP_PAGE]
                found_skills = cache.get((source, text) for _, text in page)
                writer.inferred({"kind": kind, "id": subject_id,
                                 "skills": [s.model_dump(mode="json")
                                            for s in found_skills.get((source, text), ())]}
                                for subject_id, text in page)
        return writer.finish(
            as_of=as_of, role_requirements=role_profiles.values(),
            opportunity_requirements=opportunity_profiles, occupation_matches=occupation_of,
            summary={
                "encoder": engine.encoder.name,
                "distinct_texts": distinct,
                "inference_seconds": round(inference_seconds, 1),
                "total_seconds": round(time.perf_counter() - started, 1),
                "roles_matched_to_esco": f"{len(occupation_of)}/{len(roles)}",
                "mean_skills_per_employee": round(float(np.mean(entries)), 1) if entries else 0.0,
                "runner": runner.name, "params": params.model_dump(mode="json")})


def opportunity_requirements(
        cache: InferredTexts, opportunities: Sequence[Opportunity], role_by_id: Mapping[str, Role],
        occupation_of: Mapping[str, tuple[str, float]],
        relations: Mapping[str, Mapping[str, RelationType]],
        onet: Mapping[str, list[OnetSkillRating]], params: ProfileParams,
) -> list[RequirementProfile]:
    """The requirement profile of each opportunity: its description's skills, its role's
    ESCO occupation and O*NET ratings, the skills it names."""
    out: list[RequirementProfile] = []
    for lo in range(0, len(opportunities), LOOKUP_PAGE):
        page = opportunities[lo:lo + LOOKUP_PAGE]
        found = cache.get((SourceKind.JOB_DESCRIPTION, o.description) for o in page)
        for opp in page:
            opp_role = role_by_id.get(opp.role_id or "")
            occ = occupation_of.get(opp_role.id) if opp_role else None
            out.append(build_requirements(
                opp.id, found.get((SourceKind.JOB_DESCRIPTION, opp.description), ()),
                relations.get(occ[0], {}) if occ else {},
                onet.get(opp_role.onet_code or "", []) if opp_role else [], opp.level,
                explicit=opp.skill_uris, max_requirements=params.max_requirements,
                min_inferred_score=params.asserted_engine_score))
    return out


@dataclass(frozen=True)
class EmployeeContext:
    """What turning a page of employees into observations needs besides their own records."""

    cache: InferredTexts
    course_skills: Mapping[str, tuple[str, ...]]
    course_text: Mapping[str, str]
    role_titles: Mapping[str, str]
    role_profiles: Mapping[str, RequirementProfile]
    role_levels: Mapping[str, int]
    since: date | None
    params: ProfileParams
    writer: ProfileArtifactWriter


def employee_parts(store: Store, context: EmployeeContext, page_size: int, chunk: int,
                   ) -> Iterator[ProfileBatch]:
    """Employees ``page_size`` at a time with their evidence and moves: each one's evidence
    rows (the skills read from its text) and dated observations are written as the page is
    read, and the page is handed on in parts of ``chunk`` people for their profiles."""
    for employees in employee_pages(store, page_size):
        ids = [emp.id for emp in employees]
        evidence, moves = store.evidence_of(ids), store.moves_of(ids)
        keys: list[TextKey] = []
        for items in evidence.values():
            for item in items:
                keys.append((EVIDENCE_SOURCE[item.kind], item.text))
                if item.kind is EvidenceKind.COURSE_COMPLETION:
                    keys.append((SourceKind.COURSE_DESCRIPTION,
                                 context.course_text.get(item.course_id or "", "")))
        found = context.cache.get(keys)
        titles = held_titles(employees, moves, context.role_titles)
        page: list[tuple[str, tuple[Observation, ...]]] = []
        for emp in employees:
            observations: list[Observation] = []
            rows: list[dict[str, Any]] = []
            for item in evidence.get(emp.id, ()):
                source = EVIDENCE_SOURCE[item.kind]
                named = named_skills(item, context.course_skills)
                skills = (found.get((source, item.text), ()) if item.text.strip() and not named
                          else ())
                if item.kind is EvidenceKind.COURSE_COMPLETION and not skills and not named:
                    skills = found.get((SourceKind.COURSE_DESCRIPTION,
                                        context.course_text.get(item.course_id or "", "")), ())
                rows.append({"kind": "evidence", "id": item.id, "employee_id": item.employee_id,
                             "occurred_on": item.occurred_on.isoformat(),
                             "source": source.value, "named_skill_uris": list(named),
                             "skills": [s.model_dump(mode="json") for s in skills]})
                observations += evidence_observations(item, skills, context.course_skills,
                                                      context.params, titles.get(emp.id, ()))
            observations += held_role_observations(emp, moves.get(emp.id, []),
                                                   context.role_profiles, context.role_levels,
                                                   context.since)
            context.writer.inferred(rows)
            if observations:
                context.writer.observations(emp.id, observations)
            page.append((emp.id, tuple(observations)))
        for lo in range(0, len(page), chunk):
            yield tuple(page[lo:lo + chunk])
