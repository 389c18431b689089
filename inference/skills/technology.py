"""Technology names (Airflow, Spark, Kubernetes, SQL dialects): the ESCO skills they stand for,
or none, and never an ESCO concept that merely shares the word.

ESCO names few software products, and several product names are ordinary words that ESCO uses
for something else ("airflow" is an alternative label of *computational fluid dynamics*,
"SPARK" a programming language, "sparkling wines" a product). The table below says, for the
products job texts name most, which ESCO skills (by preferred label) a mention is evidence for.
Inside a mention the engine:

- drops every verbatim label match that is not one of those skills (the look-alikes);
- encodes the mention as the labels of those skills instead of the product name, at every
  segment level, so its similarity search finds them and not the look-alike word; a product
  with no ESCO equivalent is removed from the text it searches with (it yields nothing).

Products ESCO does name with their own concept (MySQL, PostgreSQL, Hadoop, SQL Server, Jenkins)
are not in the table: their verbatim label is already the right skill.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from inference.skills.catalog import SkillCatalog

TECHNOLOGIES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    # (names as written, case-insensitive), (ESCO preferred labels it is evidence for)
    (("Apache Airflow", "Airflow"), ("data extraction, transformation and loading tools",
                                     "develop ICT workflow")),
    (("Apache Spark", "PySpark", "Spark"), ("analyse big data", "distributed computing")),
    (("Spark SQL",), ("analyse big data", "SQL")),
    (("Kubernetes", "k8s", "OpenShift"), ("manage ICT virtualisation environments",
                                          "cloud technologies")),
    (("Docker", "containerisation", "containerization"),
     ("manage ICT virtualisation environments",)),
    (("Terraform", "CloudFormation", "Pulumi"), ("automate cloud tasks", "deploy cloud resource")),
    (("Apache Kafka", "Kafka", "RabbitMQ"), ("distributed computing",)),
    (("Snowflake", "BigQuery", "Redshift", "Databricks"), ("data warehouse", "cloud technologies")),
    (("dbt",), ("data extraction, transformation and loading tools", "SQL")),
    (("Tableau", "Power BI", "Looker", "Qlik"), ("business intelligence",
                                                 "deliver visual presentation of data")),
    (("T-SQL", "Transact-SQL", "TSQL", "PL/SQL", "PLSQL", "HiveQL", "ANSI SQL", "Postgres SQL"),
     ("SQL",)),
    (("Hive", "Apache Hive"), ("Hadoop", "SQL")),
    (("AWS", "Amazon Web Services", "Azure", "GCP", "Google Cloud"), ("cloud technologies",)),
    (("pandas", "NumPy", "scikit-learn"), ("Python (computer programming)",)),
    (("PyTorch", "TensorFlow", "Keras"), ("machine learning",)),
    (("React", "ReactJS", "React.js", "Angular", "Vue.js", "VueJS"),
     ("JavaScript Framework", "JavaScript")),
    (("Node.js", "NodeJS", "TypeScript"), ("JavaScript",)),
    (("GitHub", "GitLab", "Bitbucket"), ("tools for software configuration management",)),
    (("CI/CD", "GitHub Actions", "GitLab CI"), ("DevOps",)),
    (("Elasticsearch", "MongoDB", "Cassandra", "Redis", "DynamoDB"), ("NoSQL",)),
)
"""Case-sensitive where the name is an ordinary English word: see ``_CASED``."""

_CASED = {"Spark", "Hive", "React", "Looker", "Snowflake", "Airflow", "Docker", "pandas"}
"""Names that are also ordinary words: a mention must be written as the product is ("Spark",
not "spark plugs"), unless the whole text is lower case (as some job boards store it), where
casing says nothing."""


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    name: str
    skills: tuple[int, ...]
    """Catalog indices of the ESCO skills the product stands for (may be empty)."""
    replacement: str
    """What the engine encodes instead of the product name: those skills' labels."""


class TechnologyTable:
    """The table above resolved against one catalog (labels it lacks are left out)."""

    def __init__(self, catalog: SkillCatalog,
                 entries: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = TECHNOLOGIES,
                 ) -> None:
        self._targets: dict[str, tuple[int, ...]] = {}
        self._canonical: dict[str, str] = {}
        labels: list[str] = []
        for names, skill_labels in entries:
            found = tuple(catalog.label_to_index[label] for label in skill_labels
                          if label in catalog.label_to_index)
            for name in names:
                self._targets[name.lower()] = found
                self._canonical[name.lower()] = name
                labels.append(name)
        self._replacement = {key: ", ".join(catalog.skills[i].label for i in skills)
                             for key, skills in self._targets.items()}
        ordered = sorted(labels, key=len, reverse=True)
        self._pattern = re.compile(
            r"(?<![\w.+#/-])(" + "|".join(re.escape(n) for n in ordered) + r")(?![\w+#/-]|\.\w)",
            re.IGNORECASE) if ordered else None

    def find(self, text: str) -> list[Mention]:
        """Every product mention in ``text``, longest name first, non-overlapping."""
        if self._pattern is None:
            return []
        whole_lower = text == text.lower()
        out: list[Mention] = []
        for match in self._pattern.finditer(text):
            surface = match.group(1)
            key = surface.lower()
            canonical = self._canonical[key]
            if canonical in _CASED and surface != canonical and not whole_lower:
                continue
            out.append(Mention(match.start(1), match.end(1), canonical, self._targets[key],
                               self._replacement[key]))
        return out

    def __len__(self) -> int:
        return len(self._targets)


def overlaps(lo: int, hi: int, mentions: list[Mention]) -> Mention | None:
    for mention in mentions:
        if lo < mention.end and mention.start < hi:
            return mention
    return None


def rewrite(text: str, offset: int, mentions: list[Mention]) -> str:
    """``text`` (which starts at ``offset`` of the full text) with every mention inside it
    replaced by the labels of its ESCO skills (removed when it has none)."""
    pieces: list[str] = []
    cursor = 0
    for mention in mentions:
        lo, hi = mention.start - offset, mention.end - offset
        if lo < 0 or hi > len(text):
            continue
        pieces.append(text[cursor:lo])
        pieces.append(mention.replacement)
        cursor = hi
    pieces.append(text[cursor:])
    return " ".join("".join(pieces).split())
