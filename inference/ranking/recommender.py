"""The serving recommender: retrieve -> features -> rank -> fairness -> explain, from memory.

`Recommender(bundle, store)` is built once per champion bundle: it reads the organization from
the store (employees, roles, open opportunities, courses, career changes; evidence and moves per
employee when their context is first built, `inference.ranking.histories`), the
current skill and requirement profiles from the bundle's ``profiles/`` folder, and builds the
retrieval indexes with the same `SkillProfileVectorizer()` training used. Feature rows come from
`features.ranking` (the functions training uses) as of the day after the profiles' snapshot date,
exactly as training computes a decision's features from profiles dated the day before it.
Employee contexts are built lazily and cached.

Feedback that must act before the next model reload (events/discoverability routes):
- *Rejected skills.* A ``skill_rejected`` event removes that skill from the person's profile
  here (`profile`, so contexts, features and explanations all drop it). Rejections are read
  from the store once at load, re-read per employee after ``REJECTED_TTL_S`` (other workers'
  events) and at once on `forget_employee` (this worker's events).
- *Discoverability.* The candidate index holds every employee; its opt-in mask is refreshed from
  the store on each candidate list (`refresh_discoverable`), so an opt-out or opt-in counts at
  once, without a reload.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta

import numpy as np

from features.domain import (
    Course,
    Employee,
    EmployeeProfile,
    Opportunity,
    OpportunityKind,
    OpportunityStatus,
    ProfileEntry,
    RequirementProfile,
)
from features.errors import WaypointError
from features.ranking import (
    EmployeeContext,
    employee_context,
    feature_row,
    target_from_opportunity,
    target_from_role,
)
from features.ranking_explain import ReasonFacts
from features.ranking_history import basic_requirements, history_before
from features.ranking_model import Ranker
from features.store import Store
from inference.artifacts.bundle import BundleError, ModelBundle
from inference.artifacts.profile_lines import shared_profiles
from inference.artifacts.profiles import PROFILES, ProfileArtifacts, read_profile_artifacts
from inference.fairness.serving import fair_candidate_order
from inference.ranking import explain
from inference.ranking.histories import EmployeeHistories
from inference.ranking.pipeline import OpportunityCatalog, Scorer, Slate, rank_opportunities
from inference.ranking.responses import (
    CandidateList,
    CandidateRecommendation,
    ModelStatus,
    OpportunityRecommendation,
    Reason,
    RecommendationList,
)
from inference.retrieval.indexes import EmployeeIndex, SkillProfileVectorizer, VectorIndex
from inference.retrieval.shared import (
    arrays_folder,
    content_key,
    rejected_digest,
    shared_vector_index,
)

log = logging.getLogger(__name__)
PROFILES_FOLDER = "profiles"
REJECTED_TTL_S = 60.0
"""How long a worker trusts its cached rejected skills of one employee before re-reading."""


class UnknownSubject(WaypointError):
    """The employee or role is not known to the serving model (404)."""


class Recommender:
    """Everything serving needs, in memory; thread-safe for concurrent reads."""

    def __init__(self, bundle: ModelBundle, store: Store, *,
                 profiles: ProfileArtifacts | None = None) -> None:
        self.bundle = bundle
        self.store = store
        self.policy = bundle.manifest.policy
        self.options = self.policy.serving
        self.rerank = self.policy.rerank
        self.ranker = Ranker(bundle.ranker, tuple(bundle.manifest.feature_names))
        self.loaded_at = datetime.now(UTC)
        folder = bundle.path / PROFILES_FOLDER
        shared = None if profiles is not None else shared_profiles(  # mapped, parsed on access
            folder / PROFILES, arrays_folder(bundle.path),
            bundle.manifest.files.get(f"{PROFILES_FOLDER}/{PROFILES}"))
        artifacts = profiles or read_profile_artifacts(folder, employee_profiles=shared is None)
        if artifacts.as_of != self.policy.profiles_as_of:
            raise BundleError(f"{bundle.path}: profiles dated {artifacts.as_of}, the bundle's "
                              f"policy says {self.policy.profiles_as_of}")
        self.profiles_as_of = artifacts.as_of
        self.as_of = artifacts.as_of + timedelta(days=1)
        self.vectorizer = SkillProfileVectorizer()

        employees = store.employees()
        self.employees: dict[str, Employee] = {e.id: e for e in employees}
        self.roles = {r.id: r for r in store.roles()}
        courses = store.courses()
        self.courses_by_skill: dict[str, list[Course]] = defaultdict(list)
        for course in courses:
            for uri in course.skill_uris:
                self.courses_by_skill[uri].append(course)
        courses_by_id = {c.id: c for c in courses}
        self._courses = courses_by_id
        self._histories = EmployeeHistories(store)  # evidence and moves, read per context
        career_changes = store.career_changes()
        self.adjacency = {(c.source, c.target): c.rank for c in career_changes}
        self._profiles: Mapping[str, EmployeeProfile] = shared or artifacts.employee_profiles
        self._rejected: dict[str, frozenset[str]] = store.rejected_skills()
        self._rejected_read: dict[str, float] = {}
        self._rejected_loaded = time.monotonic()
        self.role_requirements = artifacts.role_requirements

        self.opportunities: list[Opportunity] = store.opportunities(status=OpportunityStatus.OPEN)
        self._opp_requirements = [artifacts.opportunity_requirements.get(o.id)
                                  or basic_requirements(o) for o in self.opportunities]
        self._opp_targets = [target_from_opportunity(o, self.roles) for o in self.opportunities]
        self._opp_vectors = self.vectorizer.requirement_profiles(self._opp_requirements)
        self.catalog = OpportunityCatalog(
            self.opportunities, self._opp_requirements, self._opp_targets, self._opp_vectors,
            self.options.index, mentors={o.mentor_id: (self.employees[o.mentor_id].level,
                                                      self.employees[o.mentor_id].role_id)
                                         for o in self.opportunities
                                         if o.mentor_id in self.employees})
        self.opportunity_index = self.catalog.index

        # every employee is indexed; the opt-in mask is refreshed from the store per list
        discoverable = [e for e in employees if e.discoverable]
        # built once per content and memory-mapped, so the API's workers share one copy
        options = self.options.index.model_dump()

        def vectors() -> np.ndarray:  # one profile at a time: never all of them as objects
            out = np.zeros((len(employees), self.vectorizer.dim), dtype=np.float32)
            for row, e in enumerate(employees):
                out[row] = self.vectorizer.employee(self.profile(e.id))
            return out

        self.employee_index = EmployeeIndex(employees, VectorIndex(vectors(), **options)
                                            if profiles is not None else shared_vector_index(
            arrays_folder(bundle.path), content_key(
                "employees", self.vectorizer.dim, options,
                bundle.manifest.files.get(f"{PROFILES_FOLDER}/{PROFILES}"),
                rejected_digest(self._rejected), ids=[e.id for e in employees]),
            vectors, **options))
        uris = {r.skill_uri for reqs in (*self._opp_requirements,
                                         *self.role_requirements.values())
                for r in reqs.requirements}
        self.label = explain.skill_label(store.skill_labels(uris))
        self._live: set[str] | None = None
        """Opted-in ids as last read, re-read when the store's opt-in version changes."""
        self._discoverable_version: tuple[str | None, str | None] = (None, None)
        self._contexts: dict[str, EmployeeContext] = {}
        self._entries: dict[str, dict[str, ProfileEntry]] = {}
        log.info("recommender ready: model %s, %d employees (%d discoverable), %d open "
                 "opportunities, features as of %s", self.version, len(employees),
                 len(discoverable), len(self.opportunities), self.as_of)

    # ------------------------------------------------------------------ state

    @property
    def version(self) -> str:
        return self.bundle.version

    def status(self) -> ModelStatus:
        manifest = self.bundle.manifest
        return ModelStatus(state="ready", model_name=manifest.model_name,
                           model_version=self.version, created_at=manifest.created_at,
                           loaded_at=self.loaded_at, feature_count=len(manifest.feature_names),
                           data_versions=dict(manifest.data_versions), as_of=self.as_of)

    def profile(self, employee_id: str) -> EmployeeProfile:
        """The bundle's profile less the skills the person rejected."""
        found = self._profiles.get(employee_id)
        if found is None:
            return EmployeeProfile(employee_id=employee_id, as_of=self.profiles_as_of)
        rejected = self._rejected.get(employee_id)
        if rejected:
            found = found.model_copy(update={"entries": tuple(
                e for e in found.entries if e.skill_uri not in rejected)})
        return found

    def rejected_skills(self, employee_id: str) -> frozenset[str]:
        """Skills the employee marked as wrong (re-read after ``REJECTED_TTL_S``)."""
        self._check_rejections(employee_id)
        return self._rejected.get(employee_id, frozenset())

    def forget_employee(self, employee_id: str) -> None:
        """Re-read the employee's rejected skills now and drop what was built from them."""
        self._rejected_read.pop(employee_id, None)
        self._rejected_loaded_for(employee_id, force=True)

    def _check_rejections(self, employee_id: str) -> None:
        self._rejected_loaded_for(employee_id, force=False)

    def _rejected_loaded_for(self, employee_id: str, *, force: bool) -> None:
        now = time.monotonic()
        last = self._rejected_read.get(employee_id, self._rejected_loaded)
        if not force and now - last < REJECTED_TTL_S:
            return
        fresh = self.store.rejected_skills(employee_id).get(employee_id, frozenset())
        self._rejected_read[employee_id] = now
        if fresh != self._rejected.get(employee_id, frozenset()):
            self._rejected[employee_id] = fresh
            self._contexts.pop(employee_id, None)
            self._entries.pop(employee_id, None)

    def refresh_discoverable(self) -> set[str]:
        """Opted-in employee ids as stored now; the candidate index mask follows them. Re-read
        only when `Store.discoverability_version` changed (every opt-in or opt-out renews it)."""
        version = self.store.discoverability_version()  # read before the ids: never stale
        if version != self._discoverable_version or self._live is None:
            live = self.store.discoverable_ids()
            index = self.employee_index
            index.discoverable = np.fromiter((i in live for i in index.ids), dtype=bool,
                                             count=len(index.ids))
            self._live, self._discoverable_version = live, version
        return self._live

    def context(self, employee: Employee) -> EmployeeContext:
        """The employee as of ``self.as_of`` (profile, history, vector), built once."""
        self._check_rejections(employee.id)
        ctx = self._contexts.get(employee.id)
        if ctx is None:
            profile = self.profile(employee.id)
            history = history_before(self.as_of, *self._histories.take(employee.id))
            ctx = employee_context(employee, profile, history, self.as_of,
                                   current_role=self.roles.get(employee.role_id),
                                   courses=self._courses,
                                   vector=self.vectorizer.employee(profile))
            self._contexts[employee.id] = ctx
        return ctx

    def _skill_entries(self, employee_id: str) -> dict[str, ProfileEntry]:
        self._check_rejections(employee_id)
        entries = self._entries.get(employee_id)
        if entries is None:
            entries = {e.skill_uri: e for e in self.profile(employee_id).entries}
            self._entries[employee_id] = entries
        return entries

    def skill_entries(self, employee_id: str) -> dict[str, ProfileEntry]:
        """The employee's current skills by URI (rejected skills left out)."""
        return dict(self._skill_entries(employee_id))

    def open_opportunities(self) -> list[tuple[Opportunity, RequirementProfile]]:
        """The open opportunities the model serves, each with its requirement profile."""
        return list(zip(self.opportunities, self._opp_requirements, strict=True))

    def known_employee(self, employee_id: str) -> Employee:
        """The employee as loaded with the model; `UnknownSubject` (404) otherwise."""
        return self._employee(employee_id)

    def _employee(self, employee_id: str) -> Employee:
        employee = self.employees.get(employee_id)
        if employee is None:
            raise UnknownSubject(f"employee {employee_id!r} is not known to the serving model; "
                                 "reload the model after the organization changes")
        return employee

    def requirements_for_role(self, role_id: str) -> RequirementProfile:
        """The role's requirement profile; else its open role opening's; else empty."""
        found = self.role_requirements.get(role_id)
        if found is not None:
            return found
        for opp, reqs in zip(self.opportunities, self._opp_requirements, strict=True):
            if opp.role_id == role_id and opp.kind is OpportunityKind.OPEN_ROLE:
                return reqs.model_copy(update={"subject_id": role_id})
        return RequirementProfile(subject_id=role_id)

    # ------------------------------------------------------------------ employee-facing

    def scored_opportunities(self, employee_id: str,
                             kinds: Collection[OpportunityKind] | None = None,
                             score: Scorer | None = None) -> Slate:
        """The employee-side pipeline (`inference.ranking.pipeline.rank_opportunities`) with this
        bundle's depth and ranker; ``score`` replaces the ranker (a model under audit)."""
        ctx = self.context(self._employee(employee_id))
        return rank_opportunities(self.catalog, ctx, score or self.ranker.score,
                                  self.options.opportunity_depth, kinds=kinds,
                                  adjacency=self.adjacency)

    def recommend(self, employee_id: str, kinds: Collection[OpportunityKind] | None = None,
                  limit: int = 20) -> RecommendationList:
        """Ranked open opportunities for the employee (not their own role, not ones they own
        or mentor), each with matched / missing skills, courses and reasons."""
        employee = self._employee(employee_id)
        wanted = sorted(set(kinds), key=list(OpportunityKind).index) if kinds else None
        slate = self.scored_opportunities(employee.id, wanted).top(limit)
        result = RecommendationList(employee_id=employee.id, model_version=self.version,
                                    as_of=self.as_of, kinds=wanted or list(OpportunityKind),
                                    items=[])
        if not slate.rows:
            return result
        why = self._reasons(slate.features, recruiter=False, facts=[
            explain.reason_facts(self._opp_requirements[r], self._opp_targets[r].location)
            for r in slate.rows])
        entries = self._skill_entries(employee.id)
        items = []
        for rank, (row, score, reasons) in enumerate(
                zip(slate.rows, slate.scores.tolist(), why, strict=True), start=1):
            opp, reqs = self.opportunities[row], self._opp_requirements[row]
            matched, missing = explain.skill_match(entries, reqs, self.label)
            items.append(OpportunityRecommendation(
                rank=rank, opportunity_id=opp.id, kind=opp.kind, title=opp.title,
                level=opp.level, department_id=opp.department_id, location=opp.location,
                role_id=opp.role_id, score=float(score), matched_skills=matched,
                missing_skills=missing,
                courses=explain.closing_courses(missing, self.courses_by_skill),
                reasons=reasons))
        return result.model_copy(update={"items": items})

    # ------------------------------------------------------------------ recruiter-facing

    def candidates(self, role_id: str, limit: int = 20) -> CandidateList:
        """Discoverable employees for a role (never its current holders), ranked by the model,
        then fairly re-ranked; with aggregate list fairness figures."""
        role = self.roles.get(role_id)
        if role is None:
            raise UnknownSubject(f"role {role_id!r} is not known to the serving model")
        reqs = self.requirements_for_role(role_id)
        vector = self.vectorizer.requirements(reqs)
        target = target_from_role(role)
        live = self.refresh_discoverable()  # opt-ins and opt-outs since the model loaded
        pool = [self.employees[c.id] for c in self.employee_index.retrieve(
            role.level, role.id, vector, self.options.candidate_depth)]
        pool = [e for e in pool if e.id in live and e.role_id != role_id]
        result = CandidateList(role_id=role.id, role_title=role.title,
                               model_version=self.version, as_of=self.as_of, items=[],
                               fairness=None)
        if not pool:
            return result
        self._histories.prefetch(e.id for e in pool if e.id not in self._contexts)
        x = np.stack([feature_row(self.context(e), target, reqs, vector, self.adjacency)
                      for e in pool])
        scores = self.ranker.score(x)
        model_order = sorted(range(len(pool)), key=lambda i: (-scores[i], pool[i].id))
        position = {pool[i].id: i for i in model_order}
        model_rank = {pool[i].id: r for r, i in enumerate(model_order, start=1)}
        order, fairness = fair_candidate_order(
            self.store.engine, [pool[i].id for i in model_order], limit, self.rerank,
            self.policy.small_group_threshold,
            list_key=f"{role_id}@{self.as_of.isoformat()}",
            scores=[float(scores[i]) for i in model_order],
            offsets=self.bundle.manifest.rerank_offsets.get(self.rerank.dimension, {}))
        shown = [position[i] for i in order[:limit]]
        facts = explain.reason_facts(reqs, target.location)
        why = self._reasons(x[shown], recruiter=True, facts=[facts] * len(shown))
        items = []
        for rank, (i, reasons) in enumerate(zip(shown, why, strict=True), start=1):
            emp = pool[i]
            matched, missing = explain.skill_match(self._skill_entries(emp.id), reqs, self.label)
            current = self.roles.get(emp.role_id)
            items.append(CandidateRecommendation(
                rank=rank, model_rank=model_rank[emp.id], employee_id=emp.id, name=emp.name,
                role_id=emp.role_id, role_title=current.title if current else None,
                level=emp.level, department_id=emp.department_id, location=emp.location,
                score=float(scores[i]), matched_skills=matched, missing_skills=missing,
                reasons=reasons))
        return result.model_copy(update={"items": items, "fairness": fairness})

    # ------------------------------------------------------------------ helpers

    def _reasons(self, rows: np.ndarray, *, recruiter: bool,
                 facts: list[ReasonFacts]) -> list[list[Reason]]:
        if len(rows) == 0:
            return []
        contributions = self.ranker.contributions(rows)
        return explain.reasons(rows, contributions, self.ranker.feature_names,
                               self.options.reasons, recruiter=recruiter, facts=facts)

