"""The one typed reader of ``params.yaml``: every pipeline and serving hyper-parameter.

``load_params()`` validates the whole file against `Params` and returns it; nothing else in the
project opens ``params.yaml``. Every key is required and no key may be unknown, so a missing or
misspelled key is an error that names it (``fairness.rerank.floor_ratio: missing``) instead of a
silent fallback to a code default. The file lives at the repository root (``REPO_ROOT /
"params.yaml"``, or ``WAYPOINT_PARAMS`` when set) because DVC tracks it there.

Sections: ``organization`` (simulated or imported), ``simulate`` (the demo organization),
``profiles`` (evidence -> skill profiles), ``skills_encoder``, ``ranker``, ``serving``
(retrieval depths and index settings the bundle carries), ``fairness`` (audit, gate,
mitigation, the re-ranking policy) and ``promote``.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from features.domain import Sex
from features.errors import WaypointError
from features.settings import REPO_ROOT

DEFAULT_PARAMS = REPO_ROOT / "params.yaml"
PARAMS_ENV = "WAYPOINT_PARAMS"

RerankDimension = Literal["sex", "race_ethnicity", "sex_x_race_ethnicity"]
"""The protected dimensions fair re-ranking can act on (`inference.fairness.groups`)."""


class ParamsError(WaypointError):
    """``params.yaml`` is missing, unreadable, or does not match `Params`."""


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------- simulate


class SimulationParams(_Section):
    """Every knob of the simulator; see docs/simulation.md."""

    seed: int
    employees: int = Field(ge=50)
    shard_employees: int = Field(ge=50)
    """Most employees in one independently simulated division (`training.simulation.build`):
    a larger organization is simulated and written division by division, in bounded memory."""
    years_of_history: int = Field(ge=1, le=20)
    as_of: date
    bias_group: Sex
    bias_strength: float = Field(ge=0.0)
    proxy_strength: float = Field(ge=0.0)
    proxy_rate_group: float = Field(ge=0.0, le=1.0)
    proxy_rate_other: float = Field(ge=0.0, le=1.0)
    sourcing_bias_strength: float = Field(ge=0.0)
    """Log-odds penalty on a group member being put forward for an opening (sourcing bias)."""
    sourcing_proxy_strength: float = Field(ge=0.0)
    """Log-odds penalty on part-time staff being put forward for an opening."""
    fit_strength: float = Field(ge=0.0)
    """Log-odds of being chosen per unit of skill fit (fit is in [0, 1])."""
    external_fit: float = Field(ge=0.0, le=1.0)
    """The fit an external candidate is worth: the outside option in every selection."""
    outcome_fit_strength: float = Field(ge=0.0)
    outcome_fit_center: float = Field(ge=0.0, le=1.0)
    openings_per_employee_year: float = Field(gt=0.0)
    applicants_mean: float = Field(ge=1.0)
    open_opportunities_per_employee: float = Field(gt=0.0)
    discoverable_rate: float = Field(ge=0.0, le=1.0)
    recruiter_share: float = Field(ge=0.0, le=0.1)
    crosswalk_min_score: float = Field(ge=0.0)

    def version(self) -> str:
        """A short hash of every parameter (seed included): the organization's dataset version."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- profiles


class ProfileParams(_Section):
    """``profiles:`` of params.yaml (`features.params`); every key required."""

    half_life_days: float = Field(gt=0.0)
    saturation: float = Field(gt=0.0)
    reliability: dict[str, float]
    """Weight of one observation by its source (`ObservationSource` values)."""
    course_level: float
    endorsement_level: float
    self_declared_level: float
    development_need_level: float
    min_confidence: float
    needs_corroboration: list[str]
    """Observation sources (`ObservationSource` values) that alone never put a skill in a
    profile: a skill seen only through them waits for other evidence (features/profiles.py)."""
    corroborating_score: float = Field(ge=0.0, le=1.0)
    """Least score of a course observation that alone puts a skill in a profile: a skill seen
    only through lower-scoring ones (a course on k skills scores 1/k each) waits for other
    evidence; beside it they still add their weight (features/profiles.py)."""
    asserted_engine_score: float = Field(ge=0.0, le=1.0)
    """Least skills-engine score at which an inferred skill is *asserted*: alone in an employee
    profile (a review's reading; weaker ones wait for other evidence and, beside it, still add
    their weight) and as a requirement inferred from a role's or opening's description. The
    engine's own threshold is chosen for what a person is shown (generous, within noise of the
    best F1: training/skills/evaluate.py ``choose_threshold``); a profile or a requirement list
    states the skill as fact."""
    max_requirements: int = Field(ge=1)
    """Most requirements a role or opportunity has, essential first (features/profiles.py)."""


# --------------------------------------------------------------------------- skills


class EncoderParams(_Section):
    """Training of the domain-adapted skill encoder (`training.skills.encoder`)."""

    base: str
    seed: int
    steps: int = Field(ge=1)
    batch_size: int = Field(ge=2)
    max_seq_length: int = Field(ge=8)
    freeze_layers: int = Field(ge=0)
    """Embeddings and this many lower transformer layers stay frozen (cheaper backward pass)."""
    learning_rate: float = Field(gt=0.0)
    warmup_ratio: float = Field(ge=0.0, le=1.0)
    scale: float = Field(gt=0.0)
    mix: dict[str, float]
    pseudo_label_min_sim: float
    threads: int = Field(ge=1)


class StaticTuningParams(_Section):
    """Contrastive fine-tuning of the static model's token table
    (`training.skills.static_tuning`), on the transformer's kinds of pairs and mix."""

    steps: int = Field(ge=0)
    """0: the distilled table is served as it is."""
    batch_size: int = Field(ge=2)
    learning_rate: float = Field(gt=0.0)
    scale: float = Field(gt=0.0)
    seed: int


class SkillsEncoderParams(_Section):
    train: EncoderParams
    static_teacher: Literal["trained", "base"]
    """What the static model is distilled from: the trained encoder (``models/skill_encoder``)
    or ``train.base`` (the packaged MiniLM, no transformer training needed)."""
    static_pca_dims: int = Field(ge=8)
    """Dimensions of the model2vec static model."""
    static_tuning: StaticTuningParams


class SkillsEngineParams(_Section):
    """The one skills engine the pipeline builds, the profiles use and the API serves."""

    variant: str
    """Encoder variant (``inference.skills.artifacts.VARIANTS``) of that engine."""
    two_stage_search: bool
    """Score skills the benchmark's way (one vector per skill picks candidates, then exact)
    instead of an exact FAISS search over all 113k skill texts (slower)."""
    distinct_max_similarity: float = Field(gt=0.0, le=1.0)
    """A skill whose vector is at least this similar to a better-ranked one is a near-duplicate
    and is not listed (1.0 keeps every skill)."""


# --------------------------------------------------------------------------- ranker


class RankerParams(_Section):
    """LightGBM LambdaRank settings, the training-set sampling and the quality gate."""

    learning_rate: float = Field(gt=0.0)
    num_leaves: int = Field(ge=2)
    min_data_in_leaf: int = Field(ge=1)
    feature_fraction: float = Field(gt=0.0, le=1.0)
    bagging_fraction: float = Field(gt=0.0, le=1.0)
    bagging_freq: int = Field(ge=0)
    lambda_l2: float = Field(ge=0.0)
    num_boost_round: int = Field(ge=1)
    early_stopping_rounds: int = Field(ge=1)
    eval_at: int = Field(ge=1)
    recall_k: int = Field(ge=1)
    valid_fraction: float = Field(gt=0.0, lt=1.0)
    test_fraction: float = Field(gt=0.0, lt=1.0)
    negatives: int = Field(ge=0)
    random_negatives: int = Field(ge=0)
    pool_fraction: float = Field(gt=0.0, le=1.0)
    min_relative_improvement: float
    """Quality gate: the ranker's within-applicant outcome NDCG must beat the best baseline's
    by this fraction (`training.ranking.ranker`)."""
    seed: int
    labels: Literal["success", "legacy"]
    """``success``: applicant slates graded by the one-year outcome (`training.ranking.labels`);
    ``legacy``: every retrieved row graded 3/2/1/0, the applied-vs-retrieved objective
    (comparisons only)."""
    monotone: bool
    """Constrain the skill-fit features (`training.ranking.evaluation.MONOTONE`) to one
    direction: more fit never lowers the score."""
    bootstrap: int = Field(ge=0)
    """Bootstrap resamples for the evaluation's intervals."""
    num_threads: int = Field(ge=1)
    prior_scales: list[float] = Field(min_length=1)
    """Scales of the skill-fit prior the ranker boosts from (`training.ranking.prior`), the
    best on the validation period kept; 0 is no prior."""


# --------------------------------------------------------------------------- serving


class IndexParams(_Section):
    """FAISS retrieval index (`inference.retrieval.indexes.VectorIndex`)."""

    exact_threshold: int = Field(ge=0)
    """Exact inner-product search up to this many items, HNSW above."""
    hnsw_m: int = Field(ge=4)
    ef_construction: int = Field(ge=8)
    ef_search: int = Field(ge=8)


class ListMixParams(_Section):
    """The default mix of an employee's list (`inference.ranking.pipeline.mixed_order`): in the
    first ``top`` positions at most ``max_per_kind`` items of one kind and at most
    ``max_aspiration_only`` items shown for an aspiration alone (sharing no required skill);
    the items it defers follow in score order, so nothing is dropped, only moved down."""

    top: int = Field(ge=1)
    max_per_kind: int = Field(ge=1)
    max_aspiration_only: int = Field(ge=0)


class ServingParams(_Section):
    """The request pipeline's depths (`inference.ranking.pipeline`); travels in the bundle."""

    opportunity_depth: int = Field(ge=1)
    """Opportunities retrieved (then scored) per employee."""
    candidate_depth: int = Field(ge=1)
    """Discoverable candidates retrieved (then scored) per role: the qualified pool."""
    candidate_min_shared_skills: int = Field(ge=1)
    """Required skills a candidate must meet (at the required level) to be listed, or all of
    them where an opening requires fewer: one shared skill of many is a coincidence, not a fit
    (docs/live.md, "Relevance")."""
    reasons: int = Field(ge=0)
    """Plain-language reasons per item."""
    common_skill_share: float = Field(gt=0.0, le=1.0)
    """A skill at least this share of the company's roles require is common (*office
    software*, *troubleshoot*): meeting it alone lists an item on the employee side only
    near the person's occupation (same SOC minor group, or an O*NET career move; docs/live.md,
    "Relevance")."""
    common_skill_min_roles: int = Field(ge=1)
    """... and at least this many roles: in a company of a handful of roles every skill would
    pass the share (one role of ten is 10%)."""
    index: IndexParams
    mix: ListMixParams
    """The default mix by kind of an employee's list (not applied to a one-kind list)."""


# --------------------------------------------------------------------------- fairness


class OffsetFitParams(_Section):
    """Fitting of group offsets with the model (`inference.fairness.offsets`)."""

    fit: bool
    target: float = Field(gt=0.0, le=1.0)
    step: float = Field(gt=0.0)
    max: float = Field(ge=0.0)


class RerankPolicy(_Section):
    """The one fair re-ranking policy: serving, the audits and the trade-off tools use it."""

    enabled: bool
    dimension: RerankDimension
    k: int = Field(ge=1)
    """Prefixes of the top ``k`` keep each group's floor."""
    floor_ratio: float = Field(gt=0.0, le=1.0)
    """Floors at this fraction of proportional representation (`rerank_with_floors`)."""
    ceilings: bool
    """Soft per-prefix maxima next to the floors."""
    rounding: Literal["floor", "randomized"]
    """``randomized``: floors rounded with a per-list offset keyed by the list."""
    min_cell: int = Field(ge=1)
    """Groups with fewer members in a pool are reported together (`ListFairness`)."""
    offsets: OffsetFitParams


class MitigationParams(_Section):
    """Training-side mitigation (`training.fairness.mitigation`)."""

    enabled: bool
    method: Literal["none", "drop_features", "massage", "both"]
    dimension: RerankDimension
    drop_features: tuple[str, ...]


class GateThresholds(_Section):
    """What the fairness gate enforces (`inference.fairness.gate`)."""

    min_impact_ratio: float = Field(ge=0.0, le=1.0)
    per_metric: dict[str, float | None]
    """Overrides by metric name; ``None`` disables that metric."""
    dimensions: list[str] | None
    """Only gate these dimensions (``null``: all)."""
    gate_unknown: bool
    """Whether the ``unknown`` category is gated like any other (it is always shown)."""
    max_ndcg_drop: float | None = Field(ge=0.0)
    """Largest allowed NDCG@k loss from fair re-ranking (before - after)."""
    max_mean_ndkl: float | None = Field(ge=0.0)
    fail_when_nothing_checked: bool
    significance: float | None = Field(gt=0.0, lt=1.0)
    """When set, a ratio under its threshold is a violation only if its person-level
    permutation p-value is below this level (`inference.fairness.significance`)."""
    permutations: int = Field(ge=1)
    min_served_lists: int = Field(ge=0)
    """An audit of served traffic over fewer lists fails as inconclusive."""

    def threshold(self, metric: str) -> float | None:
        return self.per_metric.get(metric, self.min_impact_ratio)


class FairnessParams(_Section):
    k: int = Field(ge=1)
    """Top-k for selection rate, exposure and skew."""
    median_scope: Literal["sample", "list"]
    small_group_threshold: float = Field(ge=0.0, lt=1.0)
    """Groups under this share of a sample are reported and flagged, not gated."""
    employee_fit_bins: int = Field(ge=1)
    employee_sample: int = Field(ge=0)
    """Employees whose recommendation lists are audited (0 = all)."""
    employee_top_k: int = Field(ge=1)
    rerank: RerankPolicy
    mitigation: MitigationParams
    gate: GateThresholds


# --------------------------------------------------------------------------- organization


class OrganizationParams(_Section):
    """Where the pipeline's organization comes from (``waypoint organization``)."""

    source: Literal["simulate", "import"]
    """``simulate``: the seeded demo company (``simulate:``); ``import``: the organization
    folder at ``path`` (docs/data-format.md), imported incrementally."""
    path: Path
    """The organization folder imported when ``source`` is ``import`` (relative to the
    repository root)."""
    as_of: date | None
    """Profile date for an imported organization (``null``: the day the pipeline runs); a
    simulated one uses ``simulate.as_of``."""


# --------------------------------------------------------------------------- promote


class PromoteParams(_Section):
    metric: str
    tolerance: float = Field(ge=0.0)
    require_fairness: bool


class Params(_Section):
    """The whole of ``params.yaml``."""

    organization: OrganizationParams
    simulate: SimulationParams
    profiles: ProfileParams
    skills_encoder: SkillsEncoderParams
    skills_engine: SkillsEngineParams
    ranker: RankerParams
    serving: ServingParams
    fairness: FairnessParams
    promote: PromoteParams

    def organization_as_of(self) -> date:
        """The profile date of the pipeline's organization: ``simulate.as_of`` for the
        simulated one, ``organization.as_of`` (else today) for an imported one."""
        if self.organization.source == "simulate":
            return self.simulate.as_of
        return self.organization.as_of or date.today()


def params_path() -> Path:
    """``$WAYPOINT_PARAMS`` when set, else the repository's ``params.yaml``."""
    override = os.environ.get(PARAMS_ENV)
    return Path(override) if override else DEFAULT_PARAMS


def _problems(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        kind = error["type"]
        what = ("missing" if kind == "missing" else "unknown key" if kind == "extra_forbidden"
                else error["msg"])
        lines.append(f"{where}: {what}")
    return "; ".join(lines)


def parse_params(document: Any, source: str = "params.yaml") -> Params:
    """Validate a parsed ``params.yaml`` document; `ParamsError` names every bad key."""
    if not isinstance(document, dict):
        raise ParamsError(f"{source}: expected a mapping of sections")
    try:
        return Params.model_validate(document)
    except ValidationError as exc:
        raise ParamsError(f"{source}: {_problems(exc)}") from None


def read_params_file(path: Path) -> Params:
    if not path.is_file():
        raise ParamsError(f"{path}: no such parameters file")
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ParamsError(f"{where}: invalid YAML: {exc}") from None
    return parse_params(document, str(path))


@lru_cache(maxsize=8)
def _cached(path: Path, mtime_ns: int) -> Params:
    return read_params_file(path)


def load_params(path: Path | None = None) -> Params:
    """``params.yaml`` (``path``, else `params_path`), validated; re-read when it changes."""
    path = (path or params_path()).resolve()
    if not path.is_file():
        raise ParamsError(f"{path}: no such parameters file")
    return _cached(path, path.stat().st_mtime_ns)


def with_overrides(section: _Section, **overrides: Any) -> Any:
    """A copy of ``section`` with some keys replaced, validated again."""
    values = {**section.model_dump(), **{k: v for k, v in overrides.items() if v is not None}}
    return type(section).model_validate(values)
