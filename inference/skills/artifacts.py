"""Where the engine's artifacts live and how the engine is loaded from them, offline.

Under ``settings.artifact_dir`` (``models/``):

- ``skill_encoder/``: the domain-adapted sentence-transformers encoder (+ ``training.json``);
- ``skill_encoder_static/``: a model2vec static model distilled from it (bulk work);
- ``skills/<variant>/``: cached skill-text embeddings + FAISS index (``manifest.json`` names the
  encoder) and ``engine.json`` (the re-scoring config calibrated for that encoder).

Variants: ``baseline`` (packaged MiniLM), ``trained``, ``trained-int8`` (int8 query encoder,
the ``trained`` label cache), ``static``. ``load_engine`` prefers ``trained`` and falls back to
``baseline``; if no cache exists it builds a baseline one (slow, once) and saves it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from features.errors import WaypointError
from features.settings import PACKAGED_ENCODER, Settings
from inference.skills.catalog import SkillCatalog
from inference.skills.encoder import INT8_PREFIX, TextEncoder, load_encoder
from inference.skills.engine import EngineConfig, SkillEngine
from inference.skills.index import SkillIndex

log = logging.getLogger(__name__)
VARIANTS = ("baseline", "trained", "trained-int8", "static", "baseline-int8")
SERVING_PREFERENCE = ("trained", "baseline")


class ArtifactMissing(WaypointError):
    """A variant's encoder or cached index is not there; the message says which stage makes it."""


def encoder_dir(artifact_dir: Path) -> Path:
    return artifact_dir / "skill_encoder"


def static_dir(artifact_dir: Path) -> Path:
    return artifact_dir / "skill_encoder_static"


def index_dir(artifact_dir: Path, variant: str) -> Path:
    """Folder of a variant's label cache; int8 variants share their base variant's cache."""
    return artifact_dir / "skills" / variant.removesuffix("-int8")


def encoder_spec(artifact_dir: Path, variant: str) -> str:
    base = variant.removesuffix("-int8")
    if base == "baseline":
        spec = PACKAGED_ENCODER
    elif base == "trained":
        spec = str(encoder_dir(artifact_dir))
    elif base == "static":
        spec = str(static_dir(artifact_dir))
    else:
        raise WaypointError(f"unknown skills variant {variant!r}; one of {', '.join(VARIANTS)}")
    return INT8_PREFIX + spec if variant.endswith("-int8") else spec


def variant_available(artifact_dir: Path, variant: str) -> bool:
    folder = index_dir(artifact_dir, variant)
    if not (folder / "manifest.json").is_file():
        return False
    base = variant.removesuffix("-int8")
    if base == "trained":
        return (encoder_dir(artifact_dir) / "modules.json").is_file()
    if base == "static":
        return (static_dir(artifact_dir) / "config.json").is_file()
    return True


def load_config(folder: Path) -> EngineConfig:
    path = folder / "engine.json"
    if not path.is_file():
        return EngineConfig()
    known = {f.name for f in fields(EngineConfig)}
    raw: dict[str, Any] = json.loads(path.read_text())
    return EngineConfig(**{k: v for k, v in raw.items() if k in known})


def save_config(folder: Path, config: EngineConfig) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "engine.json").write_text(json.dumps(asdict(config), indent=2) + "\n")


def load_variant(settings: Settings, variant: str, catalog: SkillCatalog | None = None,
                 encoder: TextEncoder | None = None, max_seq_length: int = 128) -> SkillEngine:
    """One variant's engine from its artifacts; ``ArtifactMissing`` if they are not there."""
    artifact_dir = settings.artifact_dir
    if not variant_available(artifact_dir, variant):
        raise ArtifactMissing(f"skills variant {variant!r} has no artifacts under {artifact_dir};"
                              " run `waypoint skills train-encoder` and `waypoint skills index`")
    catalog = catalog or SkillCatalog.from_data_dir(settings.data_dir)
    folder = index_dir(artifact_dir, variant)
    index = SkillIndex.load(folder, catalog)
    encoder = encoder or load_encoder(encoder_spec(artifact_dir, variant), max_seq_length)
    return SkillEngine(index, encoder, load_config(folder))


def load_engine(settings: Settings, variant: str | None = None) -> SkillEngine:
    """The serving engine: the named variant, else trained, else baseline (built if absent)."""
    artifact_dir = settings.artifact_dir
    catalog = SkillCatalog.from_data_dir(settings.data_dir)
    if variant is not None:
        return load_variant(settings, variant, catalog)
    for candidate in SERVING_PREFERENCE:
        if variant_available(artifact_dir, candidate):
            return load_variant(settings, candidate, catalog)
    log.warning("no skills artifacts under %s: building the baseline label cache (slow, once)",
                artifact_dir)
    encoder = load_encoder(PACKAGED_ENCODER)
    index = SkillIndex.build(catalog, encoder)
    index.save(index_dir(artifact_dir, "baseline"))
    return SkillEngine(index, encoder, EngineConfig())
