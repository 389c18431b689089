"""Where the engine's artifacts live and how the engine is loaded from them, offline.

Under ``settings.artifact_dir`` (``models/``):

- ``skill_encoder/``: the domain-adapted sentence-transformers encoder (+ ``training.json``);
- ``skill_encoder_static/``: a model2vec static model distilled from it (bulk work);
- ``skills/<variant>/``: cached skill-text embeddings + FAISS index (``manifest.json`` names the
  encoder) and ``engine.json`` (the re-scoring config calibrated for that encoder).

- ``skills/serving.json``: which variant is *the* engine (``skills index --serving``, from
  params ``skills_engine.variant``): the profiles stage, the API and ``skills infer`` load it.

Variants: ``baseline`` (packaged MiniLM), ``trained``, ``trained-int8`` (int8 query encoder,
the ``trained`` label cache), ``static``; ``profiles`` names whichever the pointer names.
``load_engine`` without a variant loads that one engine; nothing is built lazily: a missing
artifact is an ``ArtifactMissing`` naming the stage that makes it.
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
VARIANTS = ("baseline", "baseline-int8", "trained", "trained-int8", "static")
PROFILES = "profiles"
"""The variant name of the one engine (profiles, API, CLI): whatever ``serving.json`` names."""
VARIANT_CHOICES = (*VARIANTS, PROFILES)


class ArtifactMissing(WaypointError):
    """A variant's encoder or cached index is not there; the message says which stage makes it."""


def encoder_dir(artifact_dir: Path) -> Path:
    return artifact_dir / "skill_encoder"


def static_dir(artifact_dir: Path) -> Path:
    return artifact_dir / "skill_encoder_static"


def index_dir(artifact_dir: Path, variant: str) -> Path:
    """Folder of a variant's label cache; int8 variants share their base variant's cache."""
    return artifact_dir / "skills" / variant.removesuffix("-int8")


def serving_pointer(artifact_dir: Path) -> Path:
    return artifact_dir / "skills" / "serving.json"


def write_serving_pointer(artifact_dir: Path, variant: str) -> Path:
    """Name ``variant`` the one engine (written after its index and config are in place)."""
    if variant not in VARIANTS:
        raise WaypointError(f"unknown skills variant {variant!r}; one of {', '.join(VARIANTS)}")
    path = serving_pointer(artifact_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"variant": variant}, indent=2) + "\n")
    tmp.replace(path)
    return path


def serving_variant(artifact_dir: Path) -> str:
    """The variant ``serving.json`` names; ``ArtifactMissing`` when the pipeline has not run."""
    path = serving_pointer(artifact_dir)
    if not path.is_file():
        raise ArtifactMissing(f"no skills engine under {artifact_dir} ({path} is missing): run "
                              "`dvc repro promote` (or `waypoint skills index --serving`)")
    try:
        variant = str(json.loads(path.read_text())["variant"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ArtifactMissing(f"{path}: not a skills engine pointer ({exc})") from None
    if variant not in VARIANTS:
        raise ArtifactMissing(f"{path}: unknown variant {variant!r}")
    return variant


def resolve_variant(artifact_dir: Path, variant: str | None) -> str:
    """``None`` and ``profiles`` mean the one engine; other names are themselves."""
    if variant is None or variant == PROFILES:
        return serving_variant(artifact_dir)
    if variant not in VARIANTS:
        raise WaypointError(f"unknown skills variant {variant!r}; one of "
                            f"{', '.join(VARIANT_CHOICES)}")
    return variant


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
    """The one engine (``serving.json``), or the named variant (``profiles`` = the one engine).
    Never builds anything: a missing artifact is ``ArtifactMissing``."""
    return load_variant(settings, resolve_variant(settings.artifact_dir, variant))
