"""The ESCO skills as the engine sees them: several texts per skill, and an alias table.

Each skill is represented by its preferred label, its alternative and hidden labels and
"label: description"; a text's similarity to a query counts for its skill (max over texts).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path

import numpy as np

from features.domain import Skill
from features.taxonomy import ESCO_FILES, read_esco_skills


class TextKind(IntEnum):
    LABEL = 0
    ALT = 1
    HIDDEN = 2
    DESCRIPTION = 3


_NORMALIZE = re.compile(r"[^\w+#.]+")


def normalize(text: str) -> str:
    """Lower-case, punctuation (except + # .) to spaces, collapse whitespace."""
    return " ".join(_NORMALIZE.sub(" ", text.lower()).split()).strip(" .")


@dataclass
class SkillCatalog:
    """Skills in a fixed order plus the texts that represent them, grouped by skill."""

    skills: list[Skill]
    texts: list[str] = field(default_factory=list)
    owners: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    kinds: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    description_chars: int = 240

    def __post_init__(self) -> None:
        self.uri_to_index = {skill.uri: i for i, skill in enumerate(self.skills)}
        self.label_to_index = {skill.label: i for i, skill in enumerate(self.skills)}
        if not self.texts:
            self._build_texts()
        self.aliases: dict[str, tuple[int, ...]] = {}
        self.preferred_keys: set[str] = set()
        self.alias_prefixes: frozenset[str] = frozenset()
        """Every alias key and each of its leading runs of whole words ("plan software" of
        "plan software testing"): a window of text that is none of these cannot grow into a
        label, so verbatim matching stops widening it (`inference.skills.matching`)."""
        self._build_aliases()

    @classmethod
    def from_data_dir(cls, data_dir: Path, description_chars: int = 240) -> SkillCatalog:
        skills = list(read_esco_skills(data_dir / ESCO_FILES["skills"]))
        return cls(skills=skills, description_chars=description_chars)

    def __len__(self) -> int:
        return len(self.skills)

    def _build_texts(self) -> None:
        texts: list[str] = []
        owners: list[int] = []
        kinds: list[int] = []
        for i, skill in enumerate(self.skills):
            seen: set[str] = set()
            entries = [(skill.label, TextKind.LABEL)]
            entries += [(alt, TextKind.ALT) for alt in skill.alt_labels]
            entries += [(hidden, TextKind.HIDDEN) for hidden in skill.hidden_labels]
            if skill.description:
                desc = skill.description[: self.description_chars].rsplit(" ", 1)[0]
                entries.append((f"{skill.label}: {desc}", TextKind.DESCRIPTION))
            for text, kind in entries:
                key = text.strip().lower()
                if key and key not in seen:
                    seen.add(key)
                    texts.append(text.strip())
                    owners.append(i)
                    kinds.append(int(kind))
        self.texts = texts
        self.owners = np.asarray(owners, dtype=np.int64)
        self.kinds = np.asarray(kinds, dtype=np.int8)

    def _build_aliases(self) -> None:
        """Normalized label -> skills. A preferred label wins over alternative labels."""
        preferred: dict[str, list[int]] = {}
        other: dict[str, list[int]] = {}
        for i, skill in enumerate(self.skills):
            preferred.setdefault(normalize(skill.label), []).append(i)
            for alt in (*skill.alt_labels, *skill.hidden_labels):
                other.setdefault(normalize(alt), []).append(i)
        merged: dict[str, tuple[int, ...]] = {}
        for key, owners in other.items():
            if key:
                merged[key] = tuple(dict.fromkeys(owners))
        for key, owners in preferred.items():
            if key:
                merged[key] = tuple(dict.fromkeys(owners))
        self.aliases = merged
        self.preferred_keys = set(preferred)
        self.alias_prefixes = frozenset(
            " ".join(words[:n]) for key in merged for words in [key.split(" ")]
            for n in range(1, len(words) + 1))

    @property
    def offsets(self) -> np.ndarray:
        """Start of each skill's block of texts (texts are grouped by owner, in skill order)."""
        starts = np.searchsorted(self.owners, np.arange(len(self.skills)))
        return np.asarray(starts, dtype=np.int64)

    def fingerprint(self) -> str:
        """Changes whenever the texts (hence their embeddings) would change."""
        digest = hashlib.sha256()
        for text, owner in zip(self.texts, self.owners.tolist(), strict=True):
            digest.update(f"{owner}\t{text}\n".encode())
        return digest.hexdigest()[:16]

    def uris(self, indices: Sequence[int]) -> list[str]:
        return [self.skills[i].uri for i in indices]
