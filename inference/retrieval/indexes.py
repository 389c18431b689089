"""Candidate retrieval with FAISS: opportunities for an employee, discoverable employees for a role.

Vectors come in as numpy arrays, so the encoder is pluggable; ``SkillProfileVectorizer`` is a
deterministic default that turns skill profiles into dense unit vectors (hashing each skill URI
to a fixed random direction, or projecting onto given skill embeddings). Indexes are exact
(``IndexFlatIP``) up to ``exact_threshold`` items and HNSW above; ``recall_at_depth`` measures an
approximate index against exact search. Business filters (open status, level window, location,
own role, opt-in) are applied after an over-fetch, and the requested depth is guaranteed whenever
enough items pass: when the approximate index cannot supply them, the search falls back to
exact scoring of the items that pass.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import faiss
import numpy as np

from features.domain import (
    Employee,
    EmployeeProfile,
    Opportunity,
    OpportunityKind,
    OpportunityStatus,
    RequirementProfile,
)

DEFAULT_LEVEL_WINDOW = (-1, 2)
"""Allowed ``target level - employee level``: one step down to two steps up."""


# --------------------------------------------------------------------------- vectors


def normalize(x: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation to float32 (zero rows stay zero)."""
    x = np.ascontiguousarray(np.atleast_2d(x), dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


@lru_cache(maxsize=65536)
def _hashed_direction(uri: str, dim: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.blake2b(uri.encode(), digest_size=8).digest(), "little")
    v = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    v /= np.linalg.norm(v)
    v.setflags(write=False)
    return v


class SkillProfileVectorizer:
    """Deterministic skill-profile -> unit vector.

    With ``skill_vectors`` ({skill_uri: vector}, e.g. encoder embeddings of ESCO labels) a
    profile is the weighted mean of its skills' vectors (skills without a vector are skipped);
    without, each skill URI hashes to a fixed pseudo-random direction (a dense random projection
    of the sparse skill bag, identical across processes and runs).
    """

    def __init__(self, dim: int = 256,
                 skill_vectors: Mapping[str, np.ndarray] | None = None) -> None:
        self.skill_vectors = dict(skill_vectors) if skill_vectors else None
        if self.skill_vectors:
            dim = len(next(iter(self.skill_vectors.values())))
        self.dim = dim

    def _direction(self, uri: str) -> np.ndarray | None:
        if self.skill_vectors is not None:
            v = self.skill_vectors.get(uri)
            return None if v is None else np.asarray(v, dtype=np.float32)
        return _hashed_direction(uri, self.dim)

    def from_weights(self, weights: Iterable[tuple[str, float]]) -> np.ndarray:
        vectors: list[np.ndarray] = []
        scales: list[float] = []
        for uri, w in weights:
            if w > 0 and (v := self._direction(uri)) is not None:
                vectors.append(v)
                scales.append(w)
        if not vectors:
            return np.zeros(self.dim, dtype=np.float32)
        out = np.asarray(scales, dtype=np.float32) @ np.stack(vectors)
        n = float(np.linalg.norm(out))
        return (out / n if n > 0 else out).astype(np.float32, copy=False)

    def employee(self, profile: EmployeeProfile) -> np.ndarray:
        return self.from_weights((e.skill_uri, e.proficiency * (0.5 + 0.5 * e.confidence))
                                 for e in profile.entries)

    def requirements(self, profile: RequirementProfile) -> np.ndarray:
        return self.from_weights(
            (r.skill_uri, r.importance * (0.5 + 0.5 * r.level) * (1.5 if r.essential else 1.0))
            for r in profile.requirements)

    def employees(self, profiles: Sequence[EmployeeProfile]) -> np.ndarray:
        return np.stack([self.employee(p) for p in profiles]) if profiles else \
            np.zeros((0, self.dim), dtype=np.float32)

    def requirement_profiles(self, profiles: Sequence[RequirementProfile]) -> np.ndarray:
        return np.stack([self.requirements(p) for p in profiles]) if profiles else \
            np.zeros((0, self.dim), dtype=np.float32)


# --------------------------------------------------------------------------- indexes


class VectorIndex:
    """Cosine search over unit vectors: exact below ``exact_threshold`` items, HNSW above.

    HNSW searches with ``efSearch = max(ef_search, 2k)``: on seeded synthetic data
    (``faiss.contrib.datasets.SyntheticDataset``) that keeps recall@k >= 0.98 for k in 20..200.
    """

    def __init__(self, vectors: np.ndarray, *, exact_threshold: int = 20_000, hnsw_m: int = 32,
                 ef_construction: int = 80, ef_search: int = 192) -> None:
        self._owner: faiss.Index | None = None
        self.vectors = normalize(vectors)
        self.n, self.dim = self.vectors.shape
        self.ef_search = ef_search
        self.exact = self.n <= exact_threshold
        self.index: faiss.Index
        if self.exact:
            self.index = faiss.IndexFlatIP(self.dim)
        else:
            hnsw = faiss.IndexHNSWFlat(self.dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            hnsw.hnsw.efConstruction = ef_construction
            self.index = hnsw
        if self.n:
            self.index.add(self.vectors)
        self.vectors = self._stored()  # the index's own copy: one copy of the vectors, not two

    @classmethod
    def load(cls, path: Path, *, ef_search: int = 192) -> VectorIndex:
        """An index `save` wrote, memory-mapped read-only: processes that load the same file share
        one copy of its vectors (and HNSW graph) in the page cache."""
        index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
        self = cls.__new__(cls)
        self._owner = index  # the wrapper that owns the C++ index; the downcast one does not
        self.index = faiss.downcast_index(index)
        self.exact = not isinstance(self.index, faiss.IndexHNSW)
        self.n, self.dim = int(self.index.ntotal), int(self.index.d)
        self.ef_search = ef_search
        self.vectors = self._stored()
        return self

    def save(self, path: Path) -> None:
        """Write the index to ``path`` atomically (written aside, then renamed into place)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        try:
            faiss.write_index(self.index, str(partial))
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)

    def _stored(self) -> np.ndarray:
        """A read-only (n, dim) view of the vectors the FAISS index stores."""
        flat = self.index if self.exact else faiss.downcast_index(
            self.index.storage)  # type: ignore[attr-defined]
        if self.n == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        view = faiss.rev_swig_ptr(flat.get_xb(),  # type: ignore[attr-defined]
                                  self.n * self.dim).reshape(self.n, self.dim)
        view.flags.writeable = False
        return view

    @property
    def kind(self) -> str:
        return "exact" if self.exact else "hnsw"

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (scores, row ids) per query; ids are -1 where fewer results exist."""
        q = normalize(queries)
        k = max(1, min(k, self.n)) if self.n else 1
        if self.n == 0:
            return (np.full((len(q), k), -np.inf, dtype=np.float32),
                    np.full((len(q), k), -1, dtype=np.int64))
        if self.exact:
            return self.index.search(q, k)
        params = faiss.SearchParametersHNSW(  # type: ignore[attr-defined]
            efSearch=max(self.ef_search, 2 * k))
        return self.index.search(q, k, params=params)

    def exact_filtered(self, query: np.ndarray, k: int,
                       allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-``k`` of one query among ``allowed`` rows (FAISS flat scan + id bitmap)."""
        flat = self.index if self.exact else faiss.downcast_index(
            self.index.storage)  # type: ignore[attr-defined]
        bitmap = np.packbits(np.asarray(allowed, dtype=bool), bitorder="little")
        selector = faiss.IDSelectorBitmap(self.n, faiss.swig_ptr(bitmap))
        params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        scores, ids = flat.search(normalize(query), k, params=params)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]

    def exact_search(self, queries: np.ndarray, k: int,
                     rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Brute-force top-``k`` over all rows, or over ``rows`` only (ids stay global)."""
        q = normalize(queries)
        base = self.vectors if rows is None else self.vectors[rows]
        k = min(k, len(base))
        if k == 0:
            return (np.zeros((len(q), 0), dtype=np.float32), np.zeros((len(q), 0), dtype=np.int64))
        scores = q @ base.T
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k] if k < len(base) else \
            np.tile(np.arange(len(base)), (len(q), 1))
        top = np.take_along_axis(scores, part, axis=1)
        order = np.argsort(-top, axis=1, kind="stable")
        idx = np.take_along_axis(part, order, axis=1)
        out_ids = idx if rows is None else rows[idx]
        return np.take_along_axis(top, order, axis=1), out_ids.astype(np.int64)


def recall_at_depth(index: VectorIndex, queries: np.ndarray, depth: int) -> float:
    """Mean |approximate top-depth ∩ exact top-depth| / depth over the queries."""
    _, approx = index.search(queries, depth)
    _, exact = index.exact_search(queries, depth)
    depth = exact.shape[1]
    if depth == 0:
        return 1.0
    hits = sum(len(set(a[a >= 0].tolist()) & set(e.tolist())) for a, e in zip(approx, exact,
                                                                               strict=True))
    return hits / (depth * len(exact))


def filtered_search(index: VectorIndex, query: np.ndarray, depth: int, allowed: np.ndarray,
                    overfetch: float = 2.0, max_fetch_fraction: float = 0.25
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Top-``depth`` rows among ``allowed`` (bool mask), best first, as (scores, row ids).

    Over-fetches ``depth / selectivity * overfetch`` from the index, drops rows that fail the
    filter, and doubles the fetch until ``depth`` rows pass; beyond ``max_fetch_fraction`` of the
    catalog (or for an exact index) it scores the passing rows exactly. Returns
    ``min(depth, allowed.sum())`` rows.
    """
    n_allowed = int(allowed.sum())
    want = min(depth, n_allowed)
    if want == 0:
        return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
    if not index.exact:
        selectivity = n_allowed / index.n
        fetch = math.ceil(want / selectivity * overfetch) + 8
        while fetch <= max_fetch_fraction * index.n:
            scores, ids = index.search(query, fetch)
            s, i = scores[0], ids[0]
            keep = i >= 0
            keep[keep] &= allowed[i[keep]]
            if int(keep.sum()) >= want:
                return s[keep][:want], i[keep][:want]
            fetch *= 2
    return index.exact_filtered(query, want, allowed)


# --------------------------------------------------------------------------- catalogs


@dataclass(frozen=True)
class Candidate:
    id: str
    score: float
    row: int


def _codes(values: Sequence[str | None]) -> tuple[np.ndarray, dict[str | None, int]]:
    table: dict[str | None, int] = {}
    codes = np.fromiter((table.setdefault(v, len(table)) for v in values), dtype=np.int32,
                        count=len(values))
    return codes, table


def _in_codes(codes: np.ndarray, table: Mapping[str | None, int],
              values: Collection[str]) -> np.ndarray:
    wanted = [table[v] for v in values if v in table]
    return np.isin(codes, np.asarray(wanted, dtype=np.int32))


class OpportunityIndex:
    """Opportunities an employee could take, searchable by the employee's vector."""

    def __init__(self, opportunities: Sequence[Opportunity], vectors: np.ndarray,
                 **index_options: int) -> None:
        if len(opportunities) != len(vectors):
            raise ValueError("one vector per opportunity")
        self.opportunities = list(opportunities)
        self.ids = [o.id for o in opportunities]
        self.index = VectorIndex(vectors, **index_options)
        self.open = np.array([o.status is OpportunityStatus.OPEN for o in opportunities],
                             dtype=bool)
        self.levels = np.array([o.level for o in opportunities], dtype=np.int16)
        self.locations, self._location_codes = _codes([o.location for o in opportunities])
        self.role_ids, self._role_codes = _codes([o.role_id for o in opportunities])
        self.kinds, self._kind_codes = _codes([o.kind.value for o in opportunities])

    def set_open(self, opportunity_ids: Collection[str], is_open: bool) -> None:
        """Open or close opportunities in place (no re-index needed)."""
        wanted = set(opportunity_ids)
        for row, oid in enumerate(self.ids):
            if oid in wanted:
                self.open[row] = is_open

    def allowed(self, employee: Employee, *, level_window: tuple[int, int] = DEFAULT_LEVEL_WINDOW,
                locations: Collection[str] | None = None,
                kinds: Collection[OpportunityKind] | None = None) -> np.ndarray:
        lo, hi = level_window
        mask = self.open & (self.levels >= employee.level + lo) & \
            (self.levels <= employee.level + hi)
        own = self._role_codes.get(employee.role_id)
        if own is not None:
            mask &= self.role_ids != own
        if locations is not None:
            mask &= _in_codes(self.locations, self._location_codes, locations)
        if kinds is not None:
            mask &= _in_codes(self.kinds, self._kind_codes, [k.value for k in kinds])
        return mask

    def retrieve(self, employee: Employee, vector: np.ndarray, depth: int, *,
                 level_window: tuple[int, int] = DEFAULT_LEVEL_WINDOW,
                 locations: Collection[str] | None = None,
                 kinds: Collection[OpportunityKind] | None = None,
                 also: np.ndarray | None = None) -> list[Candidate]:
        """Top-``depth`` open opportunities for the employee, best first, filters applied
        (``also``: a further bool mask over the rows, e.g. a person's own filters)."""
        mask = self.allowed(employee, level_window=level_window, locations=locations, kinds=kinds)
        if also is not None:
            mask &= also
        scores, rows = filtered_search(self.index, vector, depth, mask)
        return [Candidate(self.ids[r], float(s), int(r)) for s, r in zip(scores, rows, strict=True)]


class EmployeeIndex:
    """Discoverable employees, searchable by a role's or opportunity's requirement vector."""

    def __init__(self, employees: Sequence[Employee], vectors: np.ndarray | VectorIndex,
                 **index_options: int) -> None:
        """``vectors``: one per employee, or an index already built over them (row i is
        ``employees[i]``; e.g. a memory-mapped one, `inference.retrieval.shared`)."""
        if len(employees) != (vectors.n if isinstance(vectors, VectorIndex) else len(vectors)):
            raise ValueError("one vector per employee")
        self.employees = list(employees)
        self.ids = [e.id for e in employees]
        self.index = vectors if isinstance(vectors, VectorIndex) else \
            VectorIndex(vectors, **index_options)
        self.discoverable = np.array([e.discoverable for e in employees], dtype=bool)
        self.levels = np.array([e.level for e in employees], dtype=np.int16)
        self.locations, self._location_codes = _codes([e.location for e in employees])
        self.role_ids, self._role_codes = _codes([e.role_id for e in employees])

    def allowed(self, target_level: int, target_role_id: str | None, *,
                level_window: tuple[int, int] = DEFAULT_LEVEL_WINDOW,
                locations: Collection[str] | None = None,
                exclude_ids: Collection[str] = ()) -> np.ndarray:
        """Opted-in employees for whom ``target_level - level`` lies in ``level_window``."""
        lo, hi = level_window
        mask = self.discoverable & (self.levels >= target_level - hi) & \
            (self.levels <= target_level - lo)
        own = self._role_codes.get(target_role_id) if target_role_id else None
        if own is not None:
            mask &= self.role_ids != own
        if locations is not None:
            mask &= _in_codes(self.locations, self._location_codes, locations)
        if exclude_ids:
            excluded = set(exclude_ids)
            mask &= np.array([i not in excluded for i in self.ids], dtype=bool)
        return mask

    def retrieve(self, target_level: int, target_role_id: str | None, vector: np.ndarray,
                 depth: int, *, level_window: tuple[int, int] = DEFAULT_LEVEL_WINDOW,
                 locations: Collection[str] | None = None,
                 exclude_ids: Collection[str] = ()) -> list[Candidate]:
        """Top-``depth`` discoverable employees for a role/opportunity, best first."""
        mask = self.allowed(target_level, target_role_id, level_window=level_window,
                            locations=locations, exclude_ids=exclude_ids)
        scores, rows = filtered_search(self.index, vector, depth, mask)
        return [Candidate(self.ids[r], float(s), int(r)) for s, r in zip(scores, rows, strict=True)]
