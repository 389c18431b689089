"""Fine-tuning the static model's token table (training/skills/static_tuning.py) on a real
static model: the packaged MiniLM's own word-embedding table and tokenizer, no attention."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from features.params import StaticTuningParams
from inference.skills.encoder import StaticEncoder, load_encoder, resolve_transformer_path
from tests.support.skills_factory import make_skill_catalog
from training.skills.static_tuning import REPORT, tune_static


def _static_model(folder: Path) -> Path:
    from model2vec import StaticModel
    from safetensors import safe_open
    from tokenizers import Tokenizer

    base = resolve_transformer_path("packaged:all-MiniLM-L6-v2")
    with safe_open(str(base / "model.safetensors"), "np") as weights:
        table = weights.get_tensor("embeddings.word_embeddings.weight").astype(np.float32)
    model = StaticModel(table, Tokenizer.from_file(str(base / "tokenizer.json")), normalize=True,
                        config={"model_type": "model2vec", "architectures": ["StaticModel"]})
    model.save_pretrained(str(folder))
    (folder / "distill.json").write_text('{"distilled_from": "test"}\n')
    return folder


def _pairs() -> list[tuple[str, str]]:
    catalog = make_skill_catalog()
    return [(alt, skill.label) for skill in catalog.skills for alt in skill.alt_labels]


def _rank_of_own_label(encoder: StaticEncoder, pairs: list[tuple[str, str]]) -> float:
    labels = sorted({label for _, label in pairs})
    sims = encoder.encode([a for a, _ in pairs]) @ encoder.encode(labels).T
    own = np.array([sims[i, labels.index(label)] for i, (_, label) in enumerate(pairs)])
    return float(np.mean((sims > own[:, None]).sum(axis=1)))


def test_tuning_pulls_alternative_labels_to_their_skill_and_saves_in_place(tmp_path: Path,
                                                                           ) -> None:
    folder = _static_model(tmp_path / "static")
    pairs = _pairs()
    before = _rank_of_own_label(StaticEncoder(_load(folder), "before"), pairs)
    params = StaticTuningParams(steps=40, batch_size=16, learning_rate=0.05, scale=20.0,
                                seed=1)
    epochs = pairs * (params.steps * params.batch_size // len(pairs) + 1)
    report = tune_static(folder, epochs, params, threads=1)

    after = _rank_of_own_label(StaticEncoder(_load(folder), "after"), pairs)
    assert after < before, (before, after)
    assert report["steps"] == 40 and report["loss_last_20"] < report["loss_first_20"]
    assert json.loads((folder / REPORT).read_text())["steps"] == 40
    assert (folder / "distill.json").is_file()  # the distillation record is kept
    assert not (tmp_path / "static.tuning").exists() and not (tmp_path / "static.previous").exists()
    served = load_encoder(str(folder))  # the engine's loader reads the tuned model as before
    assert isinstance(served, StaticEncoder)
    assert served.encode(["Python"]).shape == (1, served.dim)


def test_zero_length_pair_lists_change_nothing(tmp_path: Path) -> None:
    folder = _static_model(tmp_path / "static")
    table = np.asarray(_load(folder).embedding).copy()
    params = StaticTuningParams(steps=10, batch_size=16, learning_rate=0.05, scale=20.0, seed=1)
    report = tune_static(folder, _pairs()[:3], params, threads=1)  # fewer pairs than a batch
    assert report["steps"] == 0
    assert np.array_equal(np.asarray(_load(folder).embedding), table)


def test_a_quantized_vocabulary_is_refused_and_the_model_left_alone(tmp_path: Path) -> None:
    from model2vec import StaticModel

    folder = _static_model(tmp_path / "static")
    model = _load(folder)
    quantized = StaticModel(np.asarray(model.embedding)[:8], model.tokenizer, normalize=True,
                            config=model.config,
                            token_mapping=np.zeros(len(model.tokens), dtype=np.int64))
    quantized.save_pretrained(str(folder))
    before = sorted(p.name for p in folder.iterdir())
    params = StaticTuningParams(steps=1, batch_size=2, learning_rate=0.05, scale=20.0, seed=1)
    with pytest.raises(ValueError, match="quantized"):
        tune_static(folder, _pairs(), params, threads=1)
    assert sorted(p.name for p in folder.iterdir()) == before


def _load(folder: Path):  # type: ignore[no-untyped-def]
    from model2vec import StaticModel

    return StaticModel.from_pretrained(folder, force_download=False)


def test_the_teacher_seen_by_the_distillation_neither_pads_nor_truncates(tmp_path: Path,
                                                                          ) -> None:
    """The packaged tokenizer pads every text to 128 ids; model2vec would average the teacher
    over those pads for every multi-piece vocabulary word."""
    from tokenizers import Tokenizer

    from training.skills.encoder import without_fixed_padding

    base = resolve_transformer_path("packaged:all-MiniLM-L6-v2")
    assert len(Tokenizer.from_file(str(base / "tokenizer.json")).encode("bookkeeping").ids) == 128
    teacher = without_fixed_padding(base, tmp_path)
    ids = Tokenizer.from_file(str(teacher / "tokenizer.json")).encode("bookkeeping").ids
    assert 2 <= len(ids) < 10  # [CLS], the word's pieces, [SEP]
    assert (teacher / "model.safetensors").resolve() == (base / "model.safetensors").resolve()
    assert json.loads((base / "tokenizer.json").read_text())["padding"] is not None  # untouched
