"""Behaviour a user relies on, with the real packaged encoder over the small catalog: paraphrases
keep their skill, development remarks are needs, technology names map to the skills they stand
for (never to a look-alike word), and the top 5 are five different things."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from features.inferred_skills import Polarity, SourceKind
from inference.skills.engine import SkillEngine
from tests.support.params_factory import repo_params

pytestmark = pytest.mark.model
JOB = SourceKind.JOB_DESCRIPTION
REVIEW = SourceKind.PERFORMANCE_REVIEW
LOOK_ALIKES = {"computational fluid dynamics", "SPARK", "sparkling wines"}


@pytest.fixture(scope="module")
def engine(small_skill_engine: SkillEngine) -> SkillEngine:
    """The small engine with the shipped search and near-duplicate settings (params.yaml)."""
    shipped = repo_params().skills_engine
    return SkillEngine(small_skill_engine.index, small_skill_engine.encoder, replace(
        small_skill_engine.config, two_stage_search=shipped.two_stage_search,
        distinct_max_similarity=shipped.distinct_max_similarity))


def labels(engine: SkillEngine, text: str, k: int = 5,
           source: SourceKind = JOB) -> list[str]:
    return [s.label for s in engine.infer(text, source, top_k=k).skills]


@pytest.mark.parametrize(("texts", "skill"), [
    (["Writes SQL queries against the warehouse.", "Queries relational databases in SQL.",
      "Fluent in structured query language."], "SQL"),
    (["Gives talks at conferences.", "Presents to large audiences with confidence.",
      "Confident public speaker."], "public speaking"),
    (["Translates documents from French into English.", "Does translation work.",
      "Renders texts into another language."], "translate texts"),
])
def test_more_paraphrases_keep_the_skill(engine: SkillEngine, texts: list[str],
                                         skill: str) -> None:
    for text in texts:
        assert labels(engine, text, k=1) == [skill], text


@pytest.mark.parametrize("text", [
    "Would benefit from improving her public speaking.",
    "Needs to work on public speaking.",
    "Public speaking is an area for development.",
    "Still struggles with public speaking.",
])
def test_a_development_remark_is_a_need(engine: SkillEngine, text: str) -> None:
    found = {s.label: s for s in engine.infer(text, REVIEW).skills}
    assert "public speaking" in found, text
    assert found["public speaking"].polarity is Polarity.DEVELOPMENT_NEED, text


@pytest.mark.parametrize(("text", "expected"), [
    ("Airflow and Spark", {"data extraction, transformation and loading tools",
                           "analyse big data"}),
    ("Builds data pipelines with Apache Airflow and PySpark.",
     {"data extraction, transformation and loading tools", "analyse big data"}),
    ("airflow spark", {"analyse big data"}),
    ("Runs our services on Kubernetes.", {"manage ICT virtualisation environments"}),
    ("Writes T-SQL and PL/SQL stored procedures.", {"SQL"}),
    ("Strong Transact-SQL.", {"SQL"}),
])
def test_technology_names_map_to_their_skills_never_a_look_alike(
        engine: SkillEngine, text: str, expected: set[str]) -> None:
    top = engine.infer(text, JOB, top_k=5).skills
    found = [s.label for s in top]
    assert expected <= set(found[:3]), (text, found)
    # the served list (thresholded) never holds a look-alike; in an unthresholded top 5 of this
    # 25-skill catalog one may only trail as filler, far below any threshold
    served = {s.label for s in engine.infer(text, JOB).skills}
    assert expected <= served and not LOOK_ALIKES & served, (text, served)
    assert all(s.score < 0.05 for s in top if s.label in LOOK_ALIKES), (text, top)


def test_a_product_name_credits_only_the_skills_it_stands_for(engine: SkillEngine) -> None:
    """The skills a product stands for are curated (inference/skills/technology.py); their
    labels' neighbours ("analyse large-scale data in healthcare" beside "analyse big data") are
    not what "Spark" means, on the served path and on the benchmark's rank-all path alike."""
    text = "Airflow and Spark"
    mentions = engine.technology.find(text)
    stands_for = {engine.catalog.skills[i].label for m in mentions for i in m.skills}
    assert stands_for
    products = {(m.start, m.end) for m in mentions}
    for skill in engine.infer(text, JOB, top_k=20).skills:  # credited on a product's span only
        if all((span.start, span.end) in products for span in skill.spans):
            assert skill.label in stands_for, skill
    served = {s.label for s in engine.infer(text, JOB).skills}
    assert served == stands_for, served
    scores = engine.rank_all([text])[0]
    ranked = [engine.catalog.skills[i].label for i in np.argsort(-scores)[:len(stands_for)]]
    assert set(ranked) == stands_for


def test_a_look_alike_word_outside_a_product_name_still_counts(engine: SkillEngine) -> None:
    assert labels(engine, "Studies airflow with CFD simulations.", k=1) == [
        "computational fluid dynamics"]


def test_top_five_are_different_things(small_skill_engine: SkillEngine) -> None:
    text = ("Communicates well, communication is a strength and communicates effectively with "
            "stakeholders.")
    vectors = small_skill_engine.index.skill_centroids
    index = small_skill_engine.catalog.label_to_index

    def max_pair(found: list[str]) -> float:
        rows = vectors[[index[label] for label in found]]
        sims = rows @ rows.T
        return float(np.max(sims[~np.eye(len(found), dtype=bool)]))

    plain = labels(small_skill_engine, text)
    threshold = 0.8
    assert max_pair(plain) >= threshold  # without grouping, two near-duplicates are listed
    grouped = SkillEngine(small_skill_engine.index, small_skill_engine.encoder,
                          replace(small_skill_engine.config, distinct_max_similarity=threshold))
    found = labels(grouped, text)
    assert len(found) == 5
    assert max_pair(found) < threshold
    assert found[0] == plain[0]


def test_a_segment_searched_before_gives_the_same_skills(small_skill_engine: SkillEngine,
                                                         ) -> None:
    # the engine remembers each segment's nearest skills across calls: texts read again, alone
    # or among others, must come out exactly as a fresh engine reads them
    texts = ["Writes SQL queries against the warehouse. Gives talks at conferences.",
             "Gives talks at conferences.", "Presents to large audiences with confidence."]
    fresh = SkillEngine(small_skill_engine.index, small_skill_engine.encoder,
                        small_skill_engine.config)
    first = fresh.infer_many(texts, JOB)
    assert fresh._searched  # the memo is what this test is about
    again = fresh.infer_many(list(reversed(texts)), JOB)[::-1]
    alone = [SkillEngine(small_skill_engine.index, small_skill_engine.encoder,
                         small_skill_engine.config).infer(text, JOB) for text in texts]
    assert first == again == alone
    assert any(result.skills for result in first)
    fresh.forget()
    assert not fresh._searched
    fresh.infer_many(texts, JOB)
    fresh.config = small_skill_engine.config  # a new config forgets: its settings decide them
    assert not fresh._searched
