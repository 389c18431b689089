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
- *Dismissals.* "Not interested" (``not_interested`` events) is read from the store on every
  list, so a dismissed item is gone from the next list on every worker. So are the person's
  preferred locations: an item in one of them carries the reason "It is in a place you prefer"
  (not a model feature: the order does not change; the page's "My places" filter uses them).
- *Live evidence.* Evidence written through the API (`POST /v1/employees/{id}/evidence`) carries
  its observations in the store; a person's served profile is the bundle's with them added
  (`features.live_profiles.add_observations`, the profile maths of `features.profiles`), so
  features, explanations and plans reflect it. A ``profile`` change row tells every worker, at
  its next check, to re-read that person's observations; a ``skill_rejected`` row, their
  rejections; a ``preferences`` row, their record (aspirations are a ranking feature). (The
  candidate retrieval index keeps the snapshot vectors; features use the updated profile.)
- *The live catalog.* Open opportunities are the store's, not the bundle's: a worker checks the
  store's change counter (`features.live_store.change_counter`, one indexed query) at most every
  ``live_refresh_s`` seconds and, when it moved, rebuilds its catalog (open opportunities, their
  requirements: inferred at posting time when posted or edited through the API, else the
  bundle's, else the basic ones; vectors; retrieval index) and swaps it in. A request takes the
  catalog once, so a swap never mixes two catalogs in one list. An opportunity posted, edited or
  closed through any worker is in every worker's lists within ``live_refresh_s`` plus the
  rebuild (milliseconds for the demo's few hundred open opportunities).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
from features.live_profiles import add_observations
from features.live_store import (
    change_counter,
    changes_since,
    dismissed_ids,
    ensure_live_tables,
    live_observations,
    live_requirements,
    preferred_locations,
)
from features.params import ProfileParams, load_params
from features.profiles import Observation
from features.ranking import (
    FEATURE_NAMES,
    EmployeeContext,
    Target,
    employee_context,
    feature_row,
    target_from_opportunity,
    target_from_role,
)
from features.ranking_explain import ReasonFacts
from features.ranking_history import basic_requirements, history_before, role_counted_from
from features.ranking_model import Ranker
from features.store import Store
from inference.artifacts.bundle import BundleError, ModelBundle
from inference.artifacts.profile_lines import shared_profiles
from inference.artifacts.profiles import PROFILES, ProfileArtifacts, read_profile_artifacts
from inference.fairness.serving import fair_candidate_order
from inference.ranking import explain
from inference.ranking.histories import EmployeeHistories
from inference.ranking.pipeline import (
    NO_FILTER,
    ListFilter,
    OpportunityCatalog,
    Scorer,
    Slate,
    common_skills,
    rank_opportunities,
    relevant_rows,
    shares_enough,
)
from inference.ranking.responses import (
    CandidateList,
    CandidateRecommendation,
    ModelStatus,
    OpportunityRecommendation,
    Reason,
    RecommendationList,
)
from inference.retrieval.indexes import (
    EmployeeIndex,
    OpportunityIndex,
    SkillProfileVectorizer,
    VectorIndex,
)
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
LIVE_REFRESH_S = 2.0
"""Default seconds between two checks of the store's change counter (``live_refresh_seconds``
in `features.settings.Settings` sets it per deployment)."""


_ASPIRATION = FEATURE_NAMES.index("aspiration_match")
PERSON_CHANGES = frozenset({"profile", "skill_rejected", "preferences"})
"""Live change kinds about one person (the subject is an employee id); others are catalog's."""


def profile_params_of(folder: Path) -> ProfileParams:
    """The ``profiles:`` parameters the bundle's profiles were built with (their summary), else
    the shipped ones."""
    summary = folder / "summary.json"
    if summary.is_file():
        found = json.loads(summary.read_text()).get("params")
        if isinstance(found, dict):
            return ProfileParams.model_validate(found)
    return load_params().profiles


class UnknownSubject(WaypointError):
    """The employee or role is not known to the serving model (404)."""


class Recommender:
    """Everything serving needs, in memory; thread-safe for concurrent reads."""

    def __init__(self, bundle: ModelBundle, store: Store, *,
                 profiles: ProfileArtifacts | None = None,
                 live_refresh_s: float = LIVE_REFRESH_S) -> None:
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
        ensure_live_tables(store)  # a store made before the live tables gets them

        employees = store.employees()
        self.employees: dict[str, Employee] = {e.id: e for e in employees}
        self.records_since = store.records_begin()  # time in role counted as in training
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
        self.profile_params = profile_params_of(bundle.path / PROFILES_FOLDER)
        self._live_obs: dict[str, list[Observation]] = live_observations(store)
        self._rejected: dict[str, frozenset[str]] = store.rejected_skills()
        self._rejected_read: dict[str, float] = {}
        self._rejected_loaded = time.monotonic()
        self.role_requirements = artifacts.role_requirements

        self._bundle_requirements = artifacts.opportunity_requirements
        self.live_refresh_s = live_refresh_s
        self._live_lock = threading.Lock()
        self._live_seen = change_counter(store)
        self._live_checked = time.monotonic()
        self._catalog = self._build_catalog()

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
        uris = {r.skill_uri for reqs in (*self._catalog.requirements,
                                         *self.role_requirements.values())
                for r in reqs.requirements}
        self._labels = store.skill_labels(uris)
        self.label = explain.skill_label(self._labels)
        self._live: set[str] | None = None
        """Opted-in ids as last read, re-read when the store's opt-in version changes."""
        self._discoverable_version: tuple[str | None, str | None] = (None, None)
        self._contexts: dict[str, EmployeeContext] = {}
        self._entries: dict[str, dict[str, ProfileEntry]] = {}
        log.info("recommender ready: model %s, %d employees (%d discoverable), %d open "
                 "opportunities, features as of %s", self.version, len(employees),
                 len(discoverable), len(self.opportunities), self.as_of)

    # ------------------------------------------------------------------ the live catalog

    def _build_catalog(self) -> OpportunityCatalog:
        """The store's open opportunities with their requirements, vectors and index; not one
        whose owner or mentor has left the organization (nobody would answer an application)."""
        left = self.store.departed_ids()
        opportunities = [o for o in self.store.opportunities(status=OpportunityStatus.OPEN)
                         if not ({o.owner_id, o.mentor_id} & left)]
        live = live_requirements(self.store)
        requirements = [live.get(o.id) or self._bundle_requirements.get(o.id)
                        or basic_requirements(o) for o in opportunities]
        return OpportunityCatalog(
            opportunities, requirements,
            [target_from_opportunity(o, self.roles) for o in opportunities],
            self.vectorizer.requirement_profiles(requirements), self.options.index,
            mentors={o.mentor_id: (self.employees[o.mentor_id].level,
                                   self.employees[o.mentor_id].role_id)
                     for o in opportunities if o.mentor_id in self.employees},
            common_skills=common_skills(self.role_requirements.values(),
                                        self.options.common_skill_share,
                                        self.options.common_skill_min_roles))

    def live_catalog(self, *, force: bool = False) -> OpportunityCatalog:
        """The current catalog; rebuilt when the store's change counter moved since the last
        check (checked at most every ``live_refresh_s`` seconds, at once with ``force``)."""
        now = time.monotonic()
        if force or now - self._live_checked >= self.live_refresh_s:
            with self._live_lock:
                if force or now - self._live_checked >= self.live_refresh_s:
                    seen = change_counter(self.store)
                    if seen != self._live_seen:
                        self._apply_changes(changes_since(self.store, self._live_seen))
                        self._live_seen = seen
                    self._live_checked = time.monotonic()
        return self._catalog

    def _apply_changes(self, changes: list[tuple[str, str]]) -> None:
        people = {subject for kind, subject in changes if kind in PERSON_CHANGES}
        if people:
            fresh = live_observations(self.store, people)
            for employee_id in people:
                self._live_obs[employee_id] = fresh.get(employee_id, [])
                stored = self.store.employee(employee_id)  # aspirations are a feature
                if stored is not None and employee_id in self.employees:
                    self.employees[employee_id] = stored
                self._rejected_loaded_for(employee_id, force=True)
                self._contexts.pop(employee_id, None)
                self._entries.pop(employee_id, None)
        if any(kind not in PERSON_CHANGES for kind, _ in changes):
            catalog = self._build_catalog()
            self._learn_labels(catalog)
            self._catalog = catalog
            log.info("live catalog rebuilt: %d open opportunities", len(catalog.opportunities))
        if people:
            self._learn_labels(self._catalog, people)

    def _learn_labels(self, catalog: OpportunityCatalog,
                      people: Collection[str] = ()) -> None:
        new = ({r.skill_uri for reqs in catalog.requirements for r in reqs.requirements}
               | {o.skill_uri for p in people for o in self._live_obs.get(p, ())}) - set(
            self._labels)
        if new:
            self._labels = {**self._labels, **self.store.skill_labels(new)}
            self.label = explain.skill_label(self._labels)

    @property
    def catalog(self) -> OpportunityCatalog:
        return self.live_catalog()

    @property
    def opportunities(self) -> list[Opportunity]:
        """The open opportunities served now (the live catalog's)."""
        return self.live_catalog().opportunities

    @property
    def opportunity_index(self) -> OpportunityIndex:
        return self.live_catalog().index

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
            found = EmployeeProfile(employee_id=employee_id, as_of=self.profiles_as_of)
        live = self._live_obs.get(employee_id)
        if live:
            found = add_observations(found, live, self.profile_params)
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
            ctx = employee_context(role_counted_from(employee, self.records_since), profile,
                                   history, self.as_of,
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
        catalog = self.live_catalog()
        return list(zip(catalog.opportunities, catalog.requirements, strict=True))

    def opportunity_requirements(self, opportunity: Opportunity) -> RequirementProfile:
        """An opportunity's requirements as serving uses them (open or not)."""
        catalog = self.live_catalog()
        row = catalog.row_of.get(opportunity.id)
        if row is not None:
            return catalog.requirements[row]
        live = live_requirements(self.store).get(opportunity.id)
        return live or self._bundle_requirements.get(opportunity.id) or basic_requirements(
            opportunity)

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
        for opp, reqs in self.open_opportunities():
            if opp.role_id == role_id and opp.kind is OpportunityKind.OPEN_ROLE:
                return reqs.model_copy(update={"subject_id": role_id})
        return RequirementProfile(subject_id=role_id)

    # ------------------------------------------------------------------ employee-facing

    def scored_opportunities(self, employee_id: str,
                             kinds: Collection[OpportunityKind] | None = None,
                             score: Scorer | None = None, *, wanted: ListFilter = NO_FILTER,
                             catalog: OpportunityCatalog | None = None) -> Slate:
        """The employee-side pipeline (`inference.ranking.pipeline.rank_opportunities`) with this
        bundle's depth, ranker and mix, the person's dismissals and filters, in served order;
        ``score`` replaces the ranker (a model under audit)."""
        ctx = self.context(self._employee(employee_id))
        return rank_opportunities(catalog or self.live_catalog(), ctx,
                                  score or self.ranker.score, self.options.opportunity_depth,
                                  kinds=kinds, adjacency=self.adjacency, wanted=wanted,
                                  dismissed=dismissed_ids(self.store, employee_id),
                                  mix=self.options.mix)

    def recommend(self, employee_id: str, kinds: Collection[OpportunityKind] | None = None,
                  limit: int = 20, *, offset: int = 0,
                  wanted: ListFilter = NO_FILTER) -> RecommendationList:
        """Ranked open opportunities for the employee (not their own role, not ones they own,
        mentor or dismissed; only what ``wanted`` lets through), positions ``offset + 1`` to
        ``offset + limit`` of the served order, each with matched / missing skills, courses and
        reasons."""
        employee = self._employee(employee_id)
        wanted = ListFilter(kinds=frozenset(kinds or ()) | wanted.kinds,
                            locations=wanted.locations, levels=wanted.levels,
                            departments=wanted.departments)
        shown_kinds = sorted(wanted.kinds, key=list(OpportunityKind).index) or list(
            OpportunityKind)
        catalog = self.live_catalog()
        full = self.scored_opportunities(employee.id, wanted=wanted, catalog=catalog)
        slate = Slate(full.rows[offset:offset + limit], full.features[offset:offset + limit],
                      full.scores[offset:offset + limit])
        result = RecommendationList(employee_id=employee.id, model_version=self.version,
                                    as_of=self.as_of, kinds=shown_kinds, items=[],
                                    offset=offset, total=len(full.rows))
        if not slate.rows:
            return result
        why = self._reasons(slate.features, recruiter=False, facts=[
            explain.reason_facts(catalog.requirements[r], catalog.targets[r].location)
            for r in slate.rows])
        entries = self._skill_entries(employee.id)
        places = explain.place_reason(preferred_locations(self.store, employee.id))
        items = []
        wishes = slate.features[:, _ASPIRATION].tolist()
        for rank, (row, score, reasons, wish) in enumerate(
                zip(slate.rows, slate.scores.tolist(), why, wishes, strict=True),
                start=offset + 1):
            opp, reqs = catalog.opportunities[row], catalog.requirements[row]
            reasons = (places(opp.location) + explain.aspiration_reason(wish, reasons)
                       + reasons)
            matched, missing = explain.skill_match(entries, reqs, self.label)
            if not reasons:
                reasons = explain.held_skills_reason(entries, reqs, matched)
            items.append(OpportunityRecommendation(
                rank=rank, opportunity_id=opp.id, kind=opp.kind, title=opp.title,
                level=opp.level, department_id=opp.department_id, location=opp.location,
                role_id=opp.role_id, score=float(score), matched_skills=matched,
                missing_skills=missing,
                courses=explain.closing_courses(missing, self.courses_by_skill),
                reasons=reasons, description=opp.description, owner_id=opp.owner_id,
                posted_on=opp.posted_on, closes_on=opp.closes_on,
                hours_per_week=opp.hours_per_week))
        return result.model_copy(update={"items": items})

    # ------------------------------------------------------------------ recruiter-facing

    def candidates(self, role_id: str, limit: int = 20) -> CandidateList:
        """Discoverable employees for a role (never its current holders), ranked by the model,
        then fairly re-ranked; with aggregate list fairness figures."""
        role = self.roles.get(role_id)
        if role is None:
            raise UnknownSubject(f"role {role_id!r} is not known to the serving model")
        result = CandidateList(role_id=role.id, role_title=role.title,
                               model_version=self.version, as_of=self.as_of, items=[],
                               fairness=None)
        return self._ranked_candidates(result, self.requirements_for_role(role_id),
                                       target_from_role(role), limit, list_key=role_id)

    def opportunity_candidates(self, opportunity: Opportunity,
                               limit: int = 20) -> CandidateList:
        """Discoverable employees for one opening: its requirements, and its location, level,
        kind and department as the features' target (never its role's current holders, its
        owner or its mentor); ranked and fairly re-ranked exactly as role candidates are."""
        role = self.roles.get(opportunity.role_id or "")
        result = CandidateList(role_id=opportunity.role_id,
                               role_title=role.title if role else opportunity.title,
                               opportunity_id=opportunity.id, title=opportunity.title,
                               location=opportunity.location, level=opportunity.level,
                               closes_on=opportunity.closes_on,
                               hours_per_week=opportunity.hours_per_week,
                               model_version=self.version,
                               as_of=self.as_of, items=[], fairness=None)
        return self._ranked_candidates(
            result, self.opportunity_requirements(opportunity),
            target_from_opportunity(opportunity, self.roles), limit, list_key=opportunity.id,
            exclude={i for i in (opportunity.owner_id, opportunity.mentor_id) if i})

    def _ranked_candidates(self, result: CandidateList, reqs: RequirementProfile,
                           target: Target, limit: int, *, list_key: str,
                           exclude: Collection[str] = ()) -> CandidateList:
        """The one recruiter-side pipeline: retrieve discoverable people in the target's level
        window -> features -> keep those meeting enough required skills (`shares_enough`) ->
        score -> `fair_candidate_order` -> explain."""
        vector = self.vectorizer.requirements(reqs)
        live = self.refresh_discoverable()  # opt-ins and opt-outs since the model loaded
        pool = [self.employees[c.id] for c in self.employee_index.retrieve(
            target.level, target.role_id, vector, self.options.candidate_depth)]
        pool = [e for e in pool if e.id in live and e.id not in exclude
                and (target.role_id is None or e.role_id != target.role_id)]
        if not pool:
            return result
        self._histories.prefetch(e.id for e in pool if e.id not in self._contexts)
        x = np.stack([feature_row(self.context(e), target, reqs, vector, self.adjacency)
                      for e in pool])
        if reqs.requirements:  # a candidate shares enough requirements (none known: no rule)
            shared = self.options.candidate_min_shared_skills
            keep = relevant_rows(x, aspirations=False, meets=np.array(
                [shares_enough(self.context(e).skills, reqs, shared) for e in pool],
                dtype=bool))
            pool = [e for e, k in zip(pool, keep.tolist(), strict=True) if k]
            if not pool:
                return result
            x = x[keep]
        scores = self.ranker.score(x)
        model_order = sorted(range(len(pool)), key=lambda i: (-scores[i], pool[i].id))
        position = {pool[i].id: i for i in model_order}
        model_rank = {pool[i].id: r for r, i in enumerate(model_order, start=1)}
        order, fairness = fair_candidate_order(
            self.store.engine, [pool[i].id for i in model_order], limit, self.rerank,
            self.policy.small_group_threshold,
            list_key=f"{list_key}@{self.as_of.isoformat()}",
            scores=[float(scores[i]) for i in model_order],
            offsets=self.bundle.manifest.rerank_offsets.get(self.rerank.dimension, {}))
        shown = [position[i] for i in order[:limit]]
        facts = explain.reason_facts(reqs, target.location)
        why = self._reasons(x[shown], recruiter=True, facts=[facts] * len(shown))
        items = []
        for rank, (i, reasons) in enumerate(zip(shown, why, strict=True), start=1):
            emp = pool[i]
            entries = self._skill_entries(emp.id)
            matched, missing = explain.skill_match(entries, reqs, self.label)
            if not reasons:
                reasons = explain.held_skills_reason(entries, reqs, matched, recruiter=True)
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

