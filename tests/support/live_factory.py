"""More open opportunities for the serving world, written as another process would write them."""

from __future__ import annotations

from datetime import date

from features import live_tables as lt
from features import tables as t
from features.domain import OpportunityKind
from features.store import _rows
from tests.support.factories import FAMILIES, make_opportunity
from tests.support.product_app import Product
from tests.support.serving_factory import COMMON_SKILL, OWNER

KINDS = [OpportunityKind.OPEN_ROLE, OpportunityKind.PROJECT, OpportunityKind.GIG,
         OpportunityKind.ROTATION]
HOURS = {OpportunityKind.OPEN_ROLE: 40.0, OpportunityKind.PROJECT: 6.5,
         OpportunityKind.GIG: 4.0, OpportunityKind.ROTATION: 37.5}
"""Time commitments of the added opportunities by kind (every fifth one states none)."""


def add_opportunities(product: Product, n: int = 40) -> None:
    """``n`` more open opportunities in OWNER's reach (kinds, places, levels, departments and
    time commitments varied; each asks for `COMMON_SKILL`, as the world's open ones do, so the
    lists' relevance rule keeps them), written to the store with a change row, as another
    process would."""
    owner = next(e for e in product.world.org.employees if e.id == OWNER)
    skills = [uri for _, uris in FAMILIES.values() for uri in uris]
    levels = [lv for lv in range(owner.level - 1, owner.level + 3) if 1 <= lv <= 5]
    extra = [make_opportunity(
        id=f"more-{i}", kind=KINDS[i % len(KINDS)], title=f"Extra {i}",
        location=("Lisbon", "Oslo", owner.location)[i % 3], level=levels[i % len(levels)],
        department_id=("dept-eng", "dept-fin")[i % 2], posted_on=date(2024, 1, 1),
        skill_uris=(*(skills[(i * 3 + j) % len(skills)] for j in range(3)), COMMON_SKILL),
        hours_per_week=None if i % 5 == 4 else HOURS[KINDS[i % len(KINDS)]])
        for i in range(n)]
    with product.app.state.store.engine.begin() as conn:
        conn.execute(t.opportunities.insert(), list(_rows(extra)))
        conn.execute(lt.live_changes.insert(), [{"kind": "test", "subject_id": "more",
                                                 "changed_at": date.today()}])
