"""Write a tiny reference dataset in the official ESCO / O*NET file layouts.

The rows are real (abridged from ESCO v1.1.1 and O*NET 29.3) so parsing is exercised on the
real formats: quoted multi-line label fields in ESCO, unquoted tab-separated O*NET files.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

SKILL = "http://data.europa.eu/esco/skill/"
OCC = "http://data.europa.eu/esco/occupation/"

ESCO_SKILLS = [
    ("KnowledgeSkillCompetence", SKILL + "ccd0a1d9-afda-43d9-b901-96344886e14d",
     "skill/competence",
     "cross-sector", "use spreadsheets software",
     "use spreadsheet software\nwork with spreadsheets",
     "", "released", "2023-06-05T10:46:52Z", "", "", SKILL[:-7] + "concept-scheme/skills",
     "Use software tools to create and edit tabular data."),
    ("KnowledgeSkillCompetence", SKILL + "2b0fa1ff-2d7b-4b7a-9b8e-f4e4b6f8d4d7", "knowledge",
     "cross-sector", "Python (computer programming)", "Python", "", "released",
     "2023-06-05T10:46:52Z", "", "", SKILL[:-7] + "concept-scheme/skills",
     "The techniques and principles of software development in Python."),
    ("KnowledgeSkillCompetence", SKILL + "15d76317-c71a-4fa2-aadc-2ecc34e627b7", "skill/competence",
     "transversal", "communicate with stakeholders", "liaise with stakeholders\nbrief stakeholders",
     "stakeholder talk", "released", "2023-06-05T10:46:52Z", "", "",
     SKILL[:-7] + "concept-scheme/skills", "Exchange information with stakeholders."),
]
ESCO_SKILL_HEADER = ["conceptType", "conceptUri", "skillType", "reuseLevel", "preferredLabel",
                     "altLabels", "hiddenLabels", "status", "modifiedDate", "scopeNote",
                     "definition", "inScheme", "description"]


def _write_csv(path: Path, header: list[str], rows: Sequence[tuple[str, ...]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _write_tsv(path: Path, header: list[str], rows: list[tuple[str, ...]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["\t".join(header), *("\t".join(row) for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_reference_dataset(root: Path) -> Path:
    """Write every file ingest reads under ``root``; returns ``root``."""
    esco = root / "esco"
    _write_csv(esco / "skills_en.csv", ESCO_SKILL_HEADER, ESCO_SKILLS)
    occupation = OCC + "f2b15a0e-e65a-438a-affb-29b9d50b77d1"
    _write_csv(esco / "occupations_en.csv",
               ["conceptType", "conceptUri", "iscoGroup", "preferredLabel", "altLabels",
                "hiddenLabels", "status", "modifiedDate", "regulatedProfessionNote", "scopeNote",
                "definition", "inScheme", "description", "code"],
               [("Occupation", occupation, "2512", "software developer",
                 "programmer\nsoftware engineer", "", "released", "2023-06-05T10:46:52Z", "", "",
                 "", "", "Software developers implement software.", "2512.4")])
    _write_csv(esco / "occupationSkillRelations.csv",
               ["occupationUri", "relationType", "skillType", "skillUri"],
               [(occupation, "essential", "knowledge", ESCO_SKILLS[1][1]),
                (occupation, "optional", "skill/competence", ESCO_SKILLS[2][1])])
    _write_csv(esco / "broaderRelationsSkillPillar.csv",
               ["conceptType", "conceptUri", "broaderType", "broaderUri"],
               [("KnowledgeSkillCompetence", ESCO_SKILLS[1][1], "SkillGroup",
                 SKILL + "21d2f96d-35f7-4e3f-9745-c533d2dd6e97")])
    _write_csv(esco / "skillGroups_en.csv",
               ["conceptType", "conceptUri", "preferredLabel", "altLabels", "hiddenLabels",
                "status", "modifiedDate", "scopeNote", "inScheme", "description", "code"],
               [("SkillGroup", SKILL + "21d2f96d-35f7-4e3f-9745-c533d2dd6e97",
                 "computer programming", "", "", "released", "", "", "", "", "S1.1")])
    onet = root / "onet"
    code_a, code_b = "15-1252.00", "15-1211.00"
    title_a, title_b = "Software Developers", "Computer Systems Analysts"
    _write_tsv(onet / "Occupation Data.txt", ["O*NET-SOC Code", "Title", "Description"],
               [(code_a, title_a, "Research, design, and develop computer software."),
                (code_b, title_b, "Analyze science, engineering, business, and other data.")])
    _write_tsv(onet / "Job Zones.txt",
               ["O*NET-SOC Code", "Title", "Job Zone", "Date", "Domain Source"],
               [(code_a, title_a, "4", "08/2023", "Analyst"),
                (code_b, title_b, "4", "08/2023", "Analyst")])
    _write_tsv(onet / "Task Statements.txt",
               ["O*NET-SOC Code", "Title", "Task ID", "Task", "Task Type",
                "Incumbents Responding", "Date", "Domain Source"],
               [(code_a, title_a, "16987", "Modify existing software to correct errors.", "Core",
                 "", "08/2023", "Incumbent"),
                (code_b, title_b, "8560", "Test, maintain, and monitor computer programs.",
                 "Core", "", "08/2023", "Incumbent")])
    _write_tsv(onet / "Technology Skills.txt",
               ["O*NET-SOC Code", "Title", "Example", "Commodity Code", "Commodity Title",
                "Hot Technology", "In Demand"],
               [(code_a, title_a, "Python", "43232405", "Object or component oriented "
                 "development software", "Y", "Y")])
    rating_header = ["O*NET-SOC Code", "Title", "Element ID", "Element Name", "Scale ID",
                     "Scale Name", "Data Value", "N", "Standard Error", "Lower CI Bound",
                     "Upper CI Bound", "Recommend Suppress", "Not Relevant", "Date",
                     "Domain Source"]
    _write_tsv(onet / "Skills.txt", rating_header,
               [(code_a, title_a, "2.B.3.e", "Programming", "IM", "Importance", "4.25", "8",
                 "0.2", "3.8", "4.6", "N", "", "08/2023", "Analyst"),
                (code_a, title_a, "2.B.3.e", "Programming", "LV", "Level", "5.12", "8", "0.2",
                 "4.7", "5.5", "N", "N", "08/2023", "Analyst")])
    _write_tsv(onet / "Knowledge.txt", rating_header,
               [(code_a, title_a, "2.C.3.a", "Computers and Electronics", "IM", "Importance",
                 "4.6", "8", "0.2", "4.1", "5", "N", "", "08/2023", "Analyst"),
                (code_a, title_a, "2.C.3.a", "Computers and Electronics", "LV", "Level", "5.9",
                 "8", "0.2", "5.5", "6.3", "N", "N", "08/2023", "Analyst")])
    _write_tsv(onet / "Alternate Titles.txt",
               ["O*NET-SOC Code", "Title", "Alternate Title", "Short Title", "Source(s)"],
               [(code_a, title_a, "Application Developer", "", "08")])
    _write_tsv(root / "onet-career-changers" / "Career Changers Matrix.txt",
               ["O*NET-SOC Code", "Title", "Related O*NET-SOC Code", "Related Title", "Index"],
               [(code_a, title_a, code_b, title_b, "1")])
    return root
