"""Parse ESCO v1.1.1 and O*NET 29.3 from their official file layouts into the domain model."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from features.domain import (
    CareerChange,
    EscoOccupation,
    OccupationSkill,
    OnetAltTitle,
    OnetOccupation,
    OnetRating,
    OnetRatingKind,
    OnetTask,
    OnetTechnology,
    RelationType,
    Skill,
    SkillBroader,
    SkillGroup,
    SkillType,
)
from features.sources import read_rows

ESCO_FILES = {
    "skills": "esco/skills_en.csv",
    "occupations": "esco/occupations_en.csv",
    "occupation_skills": "esco/occupationSkillRelations.csv",
    "skill_broader": "esco/broaderRelationsSkillPillar.csv",
    "skill_groups": "esco/skillGroups_en.csv",
}
ONET_FILES = {
    "occupations": "onet/Occupation Data.txt",
    "job_zones": "onet/Job Zones.txt",
    "tasks": "onet/Task Statements.txt",
    "technology": "onet/Technology Skills.txt",
    "skills": "onet/Skills.txt",
    "knowledge": "onet/Knowledge.txt",
    "alt_titles": "onet/Alternate Titles.txt",
    "career_changers": "onet-career-changers/Career Changers Matrix.txt",
}
ESCO_SKILL_PREFIX = "http://data.europa.eu/esco/skill/"


def source_paths(data_dir: Path) -> list[Path]:
    """Every file ingest reads, in a stable order (used for the data version hash)."""
    return [data_dir / rel for rel in (*ESCO_FILES.values(), *ONET_FILES.values())]


# --------------------------------------------------------------------------- ESCO


def read_esco_skills(path: Path) -> Iterator[Skill]:
    required = ("conceptUri", "skillType", "reuseLevel", "preferredLabel", "altLabels",
                "hiddenLabels", "description")
    for row in read_rows(path, required):
        uri = row.required("conceptUri")
        if not uri.startswith("http"):
            raise row.error("conceptUri", f"not a URI: {uri!r}")
        skill_type = row["skillType"].strip()
        if skill_type not in {t.value for t in SkillType}:
            raise row.error("skillType", f"unknown skill type {skill_type!r}")
        yield Skill(
            uri=uri,
            label=row.required("preferredLabel"),
            alt_labels=row.lines_list("altLabels"),
            hidden_labels=row.lines_list("hiddenLabels"),
            description=row["description"].strip(),
            skill_type=SkillType(skill_type),
            reuse_level=row["reuseLevel"].strip(),
        )


def read_esco_occupations(path: Path) -> Iterator[EscoOccupation]:
    required = ("conceptUri", "iscoGroup", "preferredLabel", "altLabels", "description", "code")
    for row in read_rows(path, required):
        yield EscoOccupation(
            uri=row.required("conceptUri"),
            label=row.required("preferredLabel"),
            isco_group=row["iscoGroup"].strip(),
            code=row["code"].strip(),
            alt_labels=row.lines_list("altLabels"),
            description=row["description"].strip(),
        )


def read_occupation_skills(path: Path) -> Iterator[OccupationSkill]:
    for row in read_rows(path, ("occupationUri", "relationType", "skillUri")):
        relation = row["relationType"].strip()
        if relation not in {"essential", "optional"}:
            raise row.error("relationType", f"expected essential or optional, got {relation!r}")
        yield OccupationSkill(
            occupation_uri=row.required("occupationUri"),
            skill_uri=row.required("skillUri"),
            relation=RelationType(relation),
        )


def read_skill_broader(path: Path) -> Iterator[SkillBroader]:
    for row in read_rows(path, ("conceptType", "conceptUri", "broaderType", "broaderUri")):
        yield SkillBroader(uri=row.required("conceptUri"), broader_uri=row.required("broaderUri"))


def read_skill_groups(path: Path) -> Iterator[SkillGroup]:
    for row in read_rows(path, ("conceptUri", "preferredLabel", "code")):
        yield SkillGroup(uri=row.required("conceptUri"), label=row.required("preferredLabel"),
                         code=row["code"].strip())


# --------------------------------------------------------------------------- O*NET

_CODE = "O*NET-SOC Code"


def read_onet_occupations(path: Path, job_zones: dict[str, int]) -> Iterator[OnetOccupation]:
    for row in read_rows(path, (_CODE, "Title", "Description"), delimiter="\t"):
        code = row.required(_CODE)
        yield OnetOccupation(code=code, title=row.required("Title"),
                             description=row["Description"].strip(), job_zone=job_zones.get(code))


def read_job_zones(path: Path) -> dict[str, int]:
    zones: dict[str, int] = {}
    for row in read_rows(path, (_CODE, "Job Zone"), delimiter="\t"):
        zone = row.integer("Job Zone")
        if not 1 <= zone <= 5:
            raise row.error("Job Zone", f"job zone must be 1-5, got {zone}")
        zones[row.required(_CODE)] = zone
    return zones


def read_onet_tasks(path: Path) -> Iterator[OnetTask]:
    for row in read_rows(path, (_CODE, "Task ID", "Task", "Task Type"), delimiter="\t"):
        yield OnetTask(code=row.required(_CODE), task_id=row.integer("Task ID"),
                       task=row.required("Task"), core=row["Task Type"].strip() == "Core")


def read_onet_technology(path: Path) -> Iterator[OnetTechnology]:
    required = (_CODE, "Example", "Commodity Title", "Hot Technology", "In Demand")
    for row in read_rows(path, required, delimiter="\t"):
        yield OnetTechnology(code=row.required(_CODE), example=row.required("Example"),
                             commodity=row["Commodity Title"].strip(),
                             hot=row.flag("Hot Technology"), in_demand=row.flag("In Demand"))


def read_onet_ratings(path: Path, kind: OnetRatingKind) -> Iterator[OnetRating]:
    """Pair the IM (importance) and LV (level) rows of each occupation and element."""
    required = (_CODE, "Element ID", "Element Name", "Scale ID", "Data Value")
    pending: dict[tuple[str, str], dict[str, float]] = {}
    names: dict[str, str] = {}
    for row in read_rows(path, required, delimiter="\t"):
        scale = row["Scale ID"].strip()
        if scale not in {"IM", "LV"}:
            raise row.error("Scale ID", f"expected IM or LV, got {scale!r}")
        key = (row.required(_CODE), row.required("Element ID"))
        names[key[1]] = row.required("Element Name")
        pending.setdefault(key, {})[scale] = row.number("Data Value")
    for (code, element_id), scales in pending.items():
        if "IM" in scales and "LV" in scales:
            yield OnetRating(code=code, kind=kind, element_id=element_id,
                             element_name=names[element_id], importance=scales["IM"],
                             level=scales["LV"])


def read_onet_alt_titles(path: Path) -> Iterator[OnetAltTitle]:
    for row in read_rows(path, (_CODE, "Alternate Title"), delimiter="\t"):
        yield OnetAltTitle(code=row.required(_CODE), title=row.required("Alternate Title"))


def read_career_changers(path: Path) -> Iterator[CareerChange]:
    required = (_CODE, "Related O*NET-SOC Code", "Index")
    for row in read_rows(path, required, delimiter="\t"):
        yield CareerChange(source=row.required(_CODE),
                           target=row.required("Related O*NET-SOC Code"),
                           rank=row.integer("Index"))


# --------------------------------------------------------------------------- all of it


@dataclass
class ReferenceData:
    """ESCO and O*NET as parsed from their files; the input of ingest and the simulator."""

    skills: list[Skill] = field(default_factory=list)
    occupations: list[EscoOccupation] = field(default_factory=list)
    occupation_skills: list[OccupationSkill] = field(default_factory=list)
    skill_broader: list[SkillBroader] = field(default_factory=list)
    skill_groups: list[SkillGroup] = field(default_factory=list)
    onet_occupations: list[OnetOccupation] = field(default_factory=list)
    onet_tasks: list[OnetTask] = field(default_factory=list)
    onet_technology: list[OnetTechnology] = field(default_factory=list)
    onet_ratings: list[OnetRating] = field(default_factory=list)
    onet_alt_titles: list[OnetAltTitle] = field(default_factory=list)
    career_changers: list[CareerChange] = field(default_factory=list)


def read_reference_data(data_dir: Path) -> ReferenceData:
    """Read and validate every ESCO and O*NET file; raise on the first malformed record."""
    esco = {key: data_dir / rel for key, rel in ESCO_FILES.items()}
    onet = {key: data_dir / rel for key, rel in ONET_FILES.items()}
    zones = read_job_zones(onet["job_zones"])
    return ReferenceData(
        skills=list(read_esco_skills(esco["skills"])),
        occupations=list(read_esco_occupations(esco["occupations"])),
        occupation_skills=list(read_occupation_skills(esco["occupation_skills"])),
        skill_broader=list(read_skill_broader(esco["skill_broader"])),
        skill_groups=list(read_skill_groups(esco["skill_groups"])),
        onet_occupations=list(read_onet_occupations(onet["occupations"], zones)),
        onet_tasks=list(read_onet_tasks(onet["tasks"])),
        onet_technology=list(read_onet_technology(onet["technology"])),
        onet_ratings=[*read_onet_ratings(onet["skills"], OnetRatingKind.SKILL),
                      *read_onet_ratings(onet["knowledge"], OnetRatingKind.KNOWLEDGE)],
        onet_alt_titles=list(read_onet_alt_titles(onet["alt_titles"])),
        career_changers=list(read_career_changers(onet["career_changers"])),
    )
