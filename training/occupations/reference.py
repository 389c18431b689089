"""The reference files the occupation models read (O*NET 29.3, ESCO v1.1.1, the Career Changers
Matrix), parsed once with the project's strict readers into one plain structure.

Only what the path and title models need is kept; every reader raises a ``SourceFormatError``
naming the file and line of a malformed record.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from features.domain import OnetRatingKind, RelationType
from features.sources import read_rows
from features.taxonomy import (
    ESCO_FILES,
    ONET_FILES,
    ReferenceData,
    read_career_changers,
    read_esco_occupations,
    read_esco_skills,
    read_job_zones,
    read_occupation_skills,
    read_onet_alt_titles,
    read_onet_occupations,
    read_onet_ratings,
    read_onet_tasks,
    read_onet_technology,
)

WORK_STYLES_FILE = "onet/Work Styles.txt"
_CODE = "O*NET-SOC Code"


@dataclass
class OccupationReference:
    """O*NET occupations (``codes``: those with task statements, sorted) and what is known of
    each, plus the ESCO occupations and their essential skills."""

    codes: list[str] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    tasks: dict[str, list[str]] = field(default_factory=dict)
    technology: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    """code -> [(example, commodity title)]."""
    ratings: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    """kind (``skill_im``, ``skill_lv``, ``knowledge_im``, ``knowledge_lv``, ``work_style``) ->
    code -> element name -> value."""
    job_zones: dict[str, int] = field(default_factory=dict)
    career_changers: dict[tuple[str, str], int] = field(default_factory=dict)
    alt_titles: dict[str, list[str]] = field(default_factory=dict)
    esco: ReferenceData = field(default_factory=ReferenceData)
    """ESCO occupations, skills and relations, O*NET occupations, alternate titles and tasks:
    what the O*NET -> ESCO occupation matcher compares (``training/simulation/crosswalk.py``)."""
    esco_essential: dict[str, set[str]] = field(default_factory=dict)
    """ESCO occupation URI -> its essential skill URIs."""


def read_work_styles(path: Path) -> dict[str, dict[str, float]]:
    """code -> work style name -> importance (IM scale only; O*NET has no level for them)."""
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for row in read_rows(path, (_CODE, "Element Name", "Scale ID", "Data Value"), delimiter="\t"):
        if row["Scale ID"].strip() == "IM":
            out[row.required(_CODE)][row.required("Element Name")] = row.number("Data Value")
    return dict(out)


def read_occupation_reference(data_dir: Path) -> OccupationReference:
    """Read every file the occupation models use from ``data_dir`` (the shared data layout)."""
    onet = {key: data_dir / rel for key, rel in ONET_FILES.items()}
    esco = {key: data_dir / rel for key, rel in ESCO_FILES.items()}
    zones = read_job_zones(onet["job_zones"])
    occupations = list(read_onet_occupations(onet["occupations"], zones))
    ref = OccupationReference(job_zones=zones)
    ref.titles = {o.code: o.title for o in occupations}
    ref.descriptions = {o.code: o.description for o in occupations}
    tasks: dict[str, list[str]] = defaultdict(list)
    for task in read_onet_tasks(onet["tasks"]):
        tasks[task.code].append(task.task)
    ref.tasks = dict(tasks)
    ref.codes = sorted(c for c in tasks if c in ref.titles)
    tech: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for t in read_onet_technology(onet["technology"]):
        tech[t.code].append((t.example, t.commodity))
    ref.technology = dict(tech)
    ratings: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for kind, key in ((OnetRatingKind.SKILL, "skills"), (OnetRatingKind.KNOWLEDGE, "knowledge")):
        name = "skill" if kind is OnetRatingKind.SKILL else "knowledge"
        for r in read_onet_ratings(onet[key], kind):
            ratings[f"{name}_im"][r.code][r.element_name] = r.importance
            ratings[f"{name}_lv"][r.code][r.element_name] = r.level
    ratings["work_style"] = defaultdict(dict, read_work_styles(data_dir / WORK_STYLES_FILE))
    ref.ratings = {k: dict(v) for k, v in ratings.items()}
    ref.career_changers = {(c.source, c.target): c.rank
                           for c in read_career_changers(onet["career_changers"])}
    alt_list = list(read_onet_alt_titles(onet["alt_titles"]))
    alts: dict[str, list[str]] = defaultdict(list)
    for a in alt_list:
        alts[a.code].append(a.title)
    ref.alt_titles = dict(alts)
    relations = list(read_occupation_skills(esco["occupation_skills"]))
    ref.esco = ReferenceData(occupations=list(read_esco_occupations(esco["occupations"])),
                             onet_occupations=occupations, onet_alt_titles=alt_list,
                             onet_tasks=list(read_onet_tasks(onet["tasks"])),
                             skills=list(read_esco_skills(esco["skills"])),
                             occupation_skills=relations)
    essential: dict[str, set[str]] = defaultdict(set)
    for rel in relations:
        if rel.relation == RelationType.ESSENTIAL:
            essential[rel.occupation_uri].add(rel.skill_uri)
    ref.esco_essential = dict(essential)
    return ref
