"""Train the domain-adapted skill encoder (pipeline stage ``waypoint skills train-encoder``).

Contrastive fine-tuning of the packaged MiniLM with in-batch negatives (multiple negatives
ranking loss: each anchor must pick its own positive among the batch's positives), on pairs
built from the taxonomy and from SkillSpan's *train* split only:

- ``alt``: alternative / hidden label -> preferred label;
- ``description``: first sentence of the description -> preferred label;
- ``occupation``: a synthetic job-posting sentence naming one or two skills of an occupation
  (by alternative labels, co-occurring per the occupation-skill relations) -> one preferred label;
- ``skillspan``: a SkillSpan train sentence, or one of its tagged spans -> a pseudo-label (spans
  carry no ESCO label): the preferred label of the alias the span is verbatim, else the nearest
  preferred label by the packaged MiniLM when confident. No 113k-text label cache is needed.
  Sentences that also appear in the benchmark files are excluded.

Writes the model to ``models/skill_encoder/`` and ``training.json`` (where, how long, data).
"""

from __future__ import annotations

import json
import logging
import math
import platform
import random
import re
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from features.params import EncoderParams, SkillsEncoderParams, load_params
from features.taxonomy import ESCO_FILES, read_esco_occupations, read_occupation_skills
from inference.skills.catalog import SkillCatalog, normalize
from inference.skills.encoder import TextEncoder
from training.skills.pseudo_labels import PSEUDO_LABELS, nearest_labels

log = logging.getLogger(__name__)
TEMPLATES = (
    "Experience with {a}.", "You will {a} and {b}.", "Ability to {a}.", "Knowledge of {a}.",
    "Strong {a} skills.", "We are looking for a {occ} who can {a}.", "{a} and {b} required.",
    "As a {occ} you {a}.", "Proven track record in {a}.", "Familiarity with {a} is a plus.",
    "Responsibilities include {a}, {b}.", "Must be able to {a}.", "Good understanding of {a}.",
    "{occ} with experience in {a} and {b}.", "Hands-on {a}.", "Excellent {a}.",
)


Pair = tuple[str, str]


# ------------------------------------------------------------------ pairs


def taxonomy_pairs(catalog: SkillCatalog) -> dict[str, list[Pair]]:
    alt: list[Pair] = []
    description: list[Pair] = []
    for skill in catalog.skills:
        alt.extend((a, skill.label) for a in (*skill.alt_labels, *skill.hidden_labels)
                   if normalize(a) != normalize(skill.label))
        if skill.description:
            first = re.split(r"(?<=[.!?])\s", skill.description.strip(), maxsplit=1)[0]
            description.append((first[:300], skill.label))
    return {"alt": alt, "description": description}


def occupation_pairs(catalog: SkillCatalog, data_dir: Path, rng: random.Random,
                     count: int) -> list[Pair]:
    occupations = {o.uri: o for o in read_esco_occupations(data_dir / ESCO_FILES["occupations"])}
    by_occupation: dict[str, list[int]] = {}
    for rel in read_occupation_skills(data_dir / ESCO_FILES["occupation_skills"]):
        index = catalog.uri_to_index.get(rel.skill_uri)
        if index is not None and rel.occupation_uri in occupations:
            by_occupation.setdefault(rel.occupation_uri, []).append(index)
    keys = sorted(by_occupation)
    pairs: list[Pair] = []

    def surface(i: int) -> str:
        skill = catalog.skills[i]
        options = [*skill.alt_labels, skill.label]
        return rng.choice(options)

    while len(pairs) < count and keys:
        occ_uri = rng.choice(keys)
        skills = by_occupation[occ_uri]
        a, b = rng.choice(skills), rng.choice(skills)
        occupation = occupations[occ_uri]
        occ = rng.choice([occupation.label, *occupation.alt_labels])
        text = rng.choice(TEMPLATES).format(a=surface(a), b=surface(b), occ=occ)
        pairs.append((text, catalog.skills[a].label))
    return pairs


def skillspan_spans(path: Path, excluded: set[str]) -> Iterator[tuple[str, list[str]]]:
    """(sentence, tagged spans) of SkillSpan JSON lines, minus excluded sentences."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            tokens: list[str] = row["tokens"]
            sentence = " ".join(tokens)
            if normalize(sentence) in excluded:
                continue
            spans: list[str] = []
            for tags in (row["tags_skill"], row["tags_knowledge"]):
                current: list[str] = []
                for token, tag in zip(tokens, tags, strict=True):
                    if tag.startswith("B"):
                        if current:
                            spans.append(" ".join(current))
                        current = [token]
                    elif tag.startswith("I") and current:
                        current.append(token)
                    else:
                        if current:
                            spans.append(" ".join(current))
                        current = []
                if current:
                    spans.append(" ".join(current))
            if spans:
                yield sentence, spans


def skillspan_pairs(path: Path, excluded: set[str], catalog: SkillCatalog,
                    labeler: TextEncoder, min_sim: float, cache: Path | None = PSEUDO_LABELS,
                    refresh: bool = False) -> tuple[list[Pair], dict[str, Any]]:
    """Pseudo-label each span with an ESCO preferred label when it is confident: the label
    whose alias table entry the span is verbatim (one skill only), else the nearest preferred
    label by ``labeler`` (the packaged MiniLM over the 13.9k preferred labels only, instead of
    a label cache of all 113k skill texts) when similarity >= ``min_sim``. The nearest labels
    are read from ``cache`` when it is fresh (`training.skills.pseudo_labels`: about a minute
    of encoding on 2 cores otherwise)."""
    rows = list(skillspan_spans(path, excluded))
    spans = sorted({span for _, found in rows for span in found})
    label_of: dict[str, str] = {}
    verbatim = 0
    for span in spans:
        owners = catalog.aliases.get(normalize(span), ())
        if len(owners) == 1:
            label_of[span] = catalog.skills[owners[0]].label
            verbatim += 1
    rest = [span for span in spans if span not in label_of]
    nearest, source = nearest_labels(rest, [skill.label for skill in catalog.skills], labeler,
                                     cache, refresh)
    for span in rest:
        if nearest[span].similarity >= min_sim:
            label_of[span] = nearest[span].label
    pairs: list[Pair] = []
    for sentence, found in rows:
        for span in found:
            label = label_of.get(span)
            if label is not None:
                pairs.append((sentence, label))
                if normalize(span) != normalize(label):
                    pairs.append((span, label))
    stats = {"sentences": len(rows), "spans": len(spans), "pseudo_labelled_spans": len(label_of),
             "verbatim_alias_spans": verbatim, "pairs": len(pairs),
             "nearest_labels": source}
    return pairs, stats


def mix_pairs(sources: dict[str, list[Pair]], mix: dict[str, float], total: int,
              rng: random.Random) -> list[Pair]:
    out: list[Pair] = []
    weight = sum(mix.get(k, 0.0) for k in sources) or 1.0
    for name, pairs in sources.items():
        want = round(total * mix.get(name, 0.0) / weight)
        if not pairs or want <= 0:
            continue
        chosen = rng.sample(pairs, want) if want <= len(pairs) else [
            rng.choice(pairs) for _ in range(want)]
        out.extend(chosen)
    rng.shuffle(out)
    return out


def batches(pairs: Sequence[Pair], size: int) -> Iterator[list[Pair]]:
    """Batches with no repeated anchor or positive (a repeat would be a false negative)."""
    pending = list(pairs)
    while pending:
        batch: list[Pair] = []
        seen: set[str] = set()
        rest: list[Pair] = []
        for pair in pending:
            if len(batch) < size and pair[0] not in seen and pair[1] not in seen:
                batch.append(pair)
                seen.update(pair)
            else:
                rest.append(pair)
        if len(batch) < 2:
            return
        yield batch
        pending = rest


# ------------------------------------------------------------------ training


def train_encoder(pairs: Sequence[Pair], params: EncoderParams, base_path: Path,
                  out_dir: Path, extra: dict[str, Any]) -> dict[str, Any]:
    import torch
    import torch.nn.functional as functional
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(params.seed)
    torch.set_num_threads(params.threads)
    model = SentenceTransformer(str(base_path), device="cpu")
    model.max_seq_length = params.max_seq_length
    transformer: Any = model[0].auto_model
    tokenizer = model.tokenizer
    transformer.train()
    frozen = [transformer.embeddings, *transformer.encoder.layer[:params.freeze_layers]]
    for module in frozen:
        for parameter in module.parameters():
            parameter.requires_grad = False
    trainable = [p for p in transformer.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=params.learning_rate, weight_decay=0.01)
    warmup = max(1, int(params.steps * params.warmup_ratio))

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (params.steps - step) / max(1, params.steps - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)

    def embed(texts: list[str]) -> torch.Tensor:
        encoded = tokenizer(texts, padding=True, truncation=True,
                            max_length=params.max_seq_length, return_tensors="pt")
        hidden = transformer(**encoded).last_hidden_state
        mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return functional.normalize(pooled, dim=-1)

    started = time.perf_counter()
    cpu_started = time.process_time()
    step = 0
    losses: list[float] = []
    epoch = 0
    while step < params.steps:
        epoch += 1
        for batch in batches(pairs, params.batch_size):
            anchors = embed([a for a, _ in batch])
            positives = embed([p for _, p in batch])
            logits = params.scale * anchors @ positives.T
            loss = functional.cross_entropy(logits, torch.arange(len(batch)))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            scheduler.step()
            losses.append(float(loss.item()))
            step += 1
            if step % 20 == 0 or step == 1:
                log.info("step %d/%d loss %.3f (%.0fs)", step, params.steps,
                         float(np.mean(losses[-20:])), time.perf_counter() - started)
            if step >= params.steps:
                break
    seconds = time.perf_counter() - started
    transformer.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    model.max_seq_length = 128
    model.save(str(out_dir))
    report = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": platform.node(), "platform": platform.platform(),
        "device": "cpu", "torch_threads": params.threads,
        "train_seconds": round(seconds, 1),
        "train_cpu_seconds": round(time.process_time() - cpu_started, 1),
        "steps": step, "epochs_started": epoch,
        "pairs": len(pairs), "loss_first_50": round(float(np.mean(losses[:50])), 4),
        "loss_last_50": round(float(np.mean(losses[-50:])), 4),
        "params": params.model_dump(), **extra,
    }
    (out_dir / "training.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def build_training_pairs(catalog: SkillCatalog, data_dir: Path, excluded: set[str],
                         labeler: TextEncoder, params: EncoderParams,
                         pseudo_labels: Path | None = PSEUDO_LABELS,
                         refresh_pseudo_labels: bool = False, total: int | None = None,
                         ) -> tuple[list[Pair], dict[str, Any]]:
    """``total`` pairs (default: the transformer's steps x batch size) in ``params.mix``."""
    rng = random.Random(params.seed)
    total = total or params.steps * params.batch_size
    sources = taxonomy_pairs(catalog)
    occ_count = math.ceil(total * params.mix.get("occupation", 0.0)) + 1
    sources["occupation"] = occupation_pairs(catalog, data_dir, rng, occ_count)
    span_pairs, span_stats = skillspan_pairs(
        data_dir / "skillspan" / "json" / "train.json", excluded, catalog, labeler,
        params.pseudo_label_min_sim, pseudo_labels, refresh_pseudo_labels)
    sources["skillspan"] = span_pairs
    pairs = mix_pairs(sources, params.mix, total, rng)
    stats: dict[str, Any] = {"available_pairs": {k: len(v) for k, v in sources.items()},
                             "skillspan": span_stats,
                             "excluded_benchmark_sentences": len(excluded)}
    return pairs, stats


def read_params(path: Path | None = None) -> SkillsEncoderParams:
    """``skills_encoder:`` of params.yaml (`features.params`)."""
    return load_params(path).skills_encoder


def without_fixed_padding(encoder_path: Path, work_dir: Path) -> Path:
    """The encoder as model2vec must see it: a tokenizer that neither pads nor truncates.

    The packaged MiniLM's ``tokenizer.json`` pads every text to 128 tokens; model2vec turns each
    vocabulary word into ids with that tokenizer and averages the teacher's output over *all*
    those ids, so every word of several word pieces (the ESCO words added to the vocabulary)
    came out as a mean over about 120 ``[PAD]`` positions, and took 25x longer to encode. Here the
    files are linked into ``work_dir`` and only the tokenizer's padding and truncation are
    cleared."""
    teacher = work_dir / "teacher"
    teacher.mkdir()
    for item in encoder_path.iterdir():
        if item.name != "tokenizer.json":
            (teacher / item.name).symlink_to(item.resolve())
    tokenizer = json.loads((encoder_path / "tokenizer.json").read_text(encoding="utf-8"))
    tokenizer["padding"] = None
    tokenizer["truncation"] = None
    (teacher / "tokenizer.json").write_text(json.dumps(tokenizer), encoding="utf-8")
    return teacher


def distill_static(encoder_path: Path, out_dir: Path, catalog: SkillCatalog,
                   pca_dims: int = 256, threads: int | None = None) -> dict[str, Any]:
    """A model2vec static model distilled locally from a transformer encoder (the trained one
    or the packaged base, params ``skills_encoder.static_teacher``); its vocabulary is the
    encoder's plus every word of the ESCO labels."""
    import torch
    from model2vec.distill import distill

    if threads:
        torch.set_num_threads(threads)
    started = time.perf_counter()
    words: set[str] = set()
    for skill in catalog.skills:
        for label in (skill.label, *skill.alt_labels):
            words.update(w for w in re.findall(r"[a-z][a-z+#.]+", label.lower()) if len(w) > 2)
    with tempfile.TemporaryDirectory() as tmp:
        teacher = without_fixed_padding(encoder_path, Path(tmp))
        model = distill(str(teacher), vocabulary=sorted(words), pca_dims=pca_dims,
                        device="cpu")
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir))
    report = {"distilled_from": str(encoder_path), "pca_dims": pca_dims,
              "extra_vocabulary": len(words),
              "distill_seconds": round(time.perf_counter() - started, 1),
              "host": platform.node(), "device": "cpu"}
    (out_dir / "distill.json").write_text(json.dumps(report, indent=2) + "\n")
    return report
