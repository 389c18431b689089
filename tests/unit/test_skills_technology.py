"""Technology names: which mentions count, what they are rewritten to, look-alikes never."""

from __future__ import annotations

from inference.skills.technology import TechnologyTable, rewrite
from tests.support.skills_factory import make_skill_catalog


def table() -> TechnologyTable:
    return TechnologyTable(make_skill_catalog())


def test_products_are_found_with_the_skills_they_stand_for() -> None:
    catalog = make_skill_catalog()
    text = "Builds pipelines with Apache Airflow, Spark and T-SQL on Kubernetes."
    found = {m.name: m for m in TechnologyTable(catalog).find(text)}
    assert set(found) == {"Apache Airflow", "Spark", "T-SQL", "Kubernetes"}
    assert [catalog.skills[i].label for i in found["T-SQL"].skills] == ["SQL"]
    airflow = found["Apache Airflow"].replacement
    assert "data extraction, transformation and loading tools" in airflow
    for mention in found.values():
        assert text[mention.start:mention.end].lower() == mention.name.lower()


def test_ordinary_words_count_only_written_as_the_product() -> None:
    assert table().find("Brings a spark of creativity and will react quickly.") == []
    assert [m.name for m in table().find("Experience with Spark and React.")] == ["Spark", "React"]
    # all-lower-case text (as job boards store it) carries no casing: the name counts
    assert [m.name for m in table().find("spark airflow sql")] == ["Spark", "Airflow"]


def test_names_inside_other_words_do_not_count() -> None:
    assert table().find("Sparkling wine, Dockerfile-free, hive-mind, PostgreSQL.") == []


def test_unmapped_products_are_removed_from_the_search_text() -> None:
    tech = TechnologyTable(make_skill_catalog())
    text = "Terraform and SQL"
    mentions = tech.find(text)
    assert [m.name for m in mentions] == ["Terraform"]
    assert mentions[0].skills == ()  # the tiny catalog lacks its ESCO skills: nothing
    assert rewrite(text, 0, mentions) == "and SQL"
