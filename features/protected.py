"""The only reader of protected attributes. Imported by fairness code and nothing else."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, select

from features import tables as t
from features.domain import ProtectedAttributes


def read_protected_attributes(
    engine: Engine, employee_ids: Iterable[str] | None = None
) -> dict[str, ProtectedAttributes]:
    query = select(t.protected_attributes)
    if employee_ids is not None:
        query = query.where(t.protected_attributes.c.employee_id.in_(list(employee_ids)))
    with engine.connect() as conn:
        return {
            row["employee_id"]: ProtectedAttributes.model_validate(dict(row))
            for row in conn.execute(query).mappings()
        }
