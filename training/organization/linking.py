"""Link every imported role to an occupation, and keep how it was linked.

Precedence, per role: an HR admin's override (``occupation_overrides.csv`` in this import, else
one stored by an earlier import) wins; then the codes the company gave in ``roles.csv``
(``given``); then the job-title normalizer (`inference.titles`, ``title_match`` with its score;
a link already stored for the same title is kept, so a re-import does not re-match); a title the
normalizer cannot place is ``unlinked``. A role without a given O*NET code takes the linked
occupation's code (from the ESCO-O*NET crosswalk the title index carries), so the pipeline's
O*NET features apply to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from features.domain import Role
from features.organization.convert import OccupationHint
from features.organization.records import OccupationOverrideRecord
from inference.titles import Match, TitleMatcher


@dataclass(frozen=True)
class OccupationNames:
    """Labels for the link review: ESCO occupation labels and O*NET titles, and the
    ESCO -> O*NET crosswalk the title index carries."""

    esco: Mapping[str, str]
    onet: Mapping[str, str]
    onet_of_esco: Mapping[str, str]

    @classmethod
    def of(cls, esco: Mapping[str, str], onet: Mapping[str, str],
           matcher: TitleMatcher | None) -> OccupationNames:
        crosswalk = ({o.uri: o.onet_code for o in matcher.occupations if o.onet_code}
                     if matcher is not None else {})
        return cls(esco, onet, crosswalk)


def _link(role: Role, method: str, uri: str | None, onet: str | None, score: float | None,
          names: OccupationNames, label: str = "") -> dict[str, Any]:
    label = label or names.esco.get(uri or "") or names.onet.get(onet or "") or ""
    return {"role_id": role.id, "occupation_uri": uri, "label": label, "onet_code": onet,
            "score": None if score is None else round(score, 6), "method": method,
            "title": role.title}


def needs_matching(roles: Sequence[Role], hints: Mapping[str, OccupationHint],
                   overrides: Mapping[str, OccupationOverrideRecord],
                   stored: Mapping[str, Mapping[str, Any]]) -> list[Role]:
    """The roles only the title normalizer can link (no override, no code, no kept link)."""
    out = []
    for role in roles:
        hint = hints.get(role.id, OccupationHint(None, None))
        old = stored.get(role.id)
        if role.id in overrides or (old is not None and old["method"] == "override"):
            continue
        if hint.onet_code or hint.occupation_uri:
            continue
        if old is not None and old["method"] in ("title_match", "unlinked") \
                and old["title"] == role.title:
            continue
        out.append(role)
    return out


def link_roles(roles: Sequence[Role], hints: Mapping[str, OccupationHint],
               overrides: Mapping[str, OccupationOverrideRecord],
               stored: Mapping[str, Mapping[str, Any]], matcher: TitleMatcher | None,
               names: OccupationNames) -> tuple[list[Role], list[dict[str, Any]]]:
    """(roles with their O*NET code filled from the link, one ``role_occupations`` row each)."""
    pending = needs_matching(roles, hints, overrides, stored)
    matches: dict[str, Match | None] = {}
    if pending:
        if matcher is None:
            raise ValueError("no title index to link roles without an occupation code")
        for role, best in zip(pending, matcher.match([r.title for r in pending], top_k=1),
                              strict=True):
            matches[role.id] = best[0] if best else None
    linked: list[Role] = []
    links: list[dict[str, Any]] = []
    for role in roles:
        hint = hints.get(role.id, OccupationHint(None, None))
        old = stored.get(role.id)
        override = overrides.get(role.id)
        if override is not None:
            onet = override.onet_code or names.onet_of_esco.get(override.occupation_uri)
            link = _link(role, "override", override.occupation_uri, onet, None, names)
        elif old is not None and old["method"] == "override":
            link = {**old, "title": role.title}
        elif hint.onet_code or hint.occupation_uri:
            onet = hint.onet_code or names.onet_of_esco.get(hint.occupation_uri or "")
            link = _link(role, "given", hint.occupation_uri, onet, None, names)
        elif role.id in matches:
            found = matches[role.id]
            link = (_link(role, "title_match", found.uri, found.onet_code, found.score, names,
                          found.label)
                    if found is not None else _link(role, "unlinked", None, None, None, names))
        else:
            assert old is not None
            link = dict(old)
        links.append(link)
        onet_code = hint.onet_code if link["method"] == "given" and hint.onet_code \
            else link["onet_code"]
        linked.append(role.model_copy(update={"onet_code": onet_code}))
    return linked, links
