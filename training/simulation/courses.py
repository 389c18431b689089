"""A course catalog from the ESCO skill pillar: one course per small cluster of sibling skills.

Skills are grouped under their first broader concept in the ESCO hierarchy (a skill group or a
broader skill); each group is cut into clusters of one to three skills, and each cluster becomes
a course whose title and description come from the skills' labels and descriptions.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from features.domain import Course, Skill, SkillType
from features.taxonomy import ReferenceData
from training.simulation.roles import Catalog
from training.simulation.text import first_sentence, join_words

HOURS_BY_REUSE = {"transversal": 6, "cross-sector": 10, "sector-specific": 14,
                  "occupation-specific": 20}
FORMATS = ("self-paced online", "instructor-led online", "classroom", "blended")


def _title(skills: list[Skill], group: str, rnd: np.random.Generator) -> str:
    first = skills[0]
    if len(skills) > 1:
        return f"{group[:1].upper() + group[1:]}: {join_words([s.label for s in skills])}"
    if first.skill_type is SkillType.KNOWLEDGE:
        pattern = ("Introduction to {x}", "{X} fundamentals", "{X}: core concepts")
    else:
        pattern = ("How to {x}", "{X} in practice", "Learning to {x}")
    template = pattern[int(rnd.integers(len(pattern)))]
    return template.format(x=first.label, X=first.label[:1].upper() + first.label[1:])


def build_courses(reference: ReferenceData, catalog: Catalog,
                  rng: np.random.Generator) -> tuple[list[Course], dict[int, list[str]]]:
    """Courses for every skill some role needs; also skill index -> course ids."""
    needed = sorted({int(i) for spec in catalog.roles for i in spec.skill_idx})
    broader: dict[str, str] = {}
    for edge in sorted(reference.skill_broader, key=lambda e: (e.uri, e.broader_uri)):
        broader.setdefault(edge.uri, edge.broader_uri)
    labels = {g.uri: g.label for g in reference.skill_groups}
    labels.update({s.uri: s.label for s in catalog.skills})
    groups: dict[str, list[int]] = defaultdict(list)
    for index in needed:
        groups[broader.get(catalog.skills[index].uri, "")].append(index)
    courses: list[Course] = []
    by_skill: dict[int, list[str]] = defaultdict(list)
    for parent in sorted(groups):
        members = [int(i) for i in rng.permutation(groups[parent])]
        while members:
            size = min(len(members), int(rng.choice([1, 1, 2, 3])))
            cluster, members = sorted(members[:size]), members[size:]
            skills = [catalog.skills[i] for i in cluster]
            hours = sum(HOURS_BY_REUSE.get(s.reuse_level, 8) for s in skills)
            hours = max(2, int(hours * rng.uniform(0.5, 1.5)))
            fmt = FORMATS[int(rng.integers(len(FORMATS)))]
            about = " ".join(first_sentence(s.description, 260) for s in skills if s.description)
            description = (f"A {hours}-hour {fmt} course covering "
                           f"{join_words([s.label for s in skills])}. {about}").strip()
            course_id = f"C{len(courses) + 1:05d}"
            courses.append(Course(id=course_id,
                                  title=_title(skills, labels.get(parent, "skills"), rng),
                                  description=description,
                                  skill_uris=tuple(s.uri for s in skills), hours=hours))
            for index in cluster:
                by_skill[index].append(course_id)
    return courses, dict(by_skill)
