"""The live tables on a store made before they existed, and the change counter's contract."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from features import live_tables as lt
from features.live_store import change_counter, changes_since, record_change
from inference.ranking.recommender import Recommender
from tests.support.serving_factory import OWNER, build_world


def test_a_store_without_the_live_tables_still_serves_and_gets_them(tmp_path: Path) -> None:
    world = build_world(tmp_path)
    store = world.store()
    with store.engine.begin() as conn:  # as a store made by the code before them
        for table in (lt.live_changes, lt.live_observations, lt.opportunity_requirements,
                      lt.write_keys, lt.employee_preferences):
            table.drop(conn)
    recommender = Recommender(world.bundle(), store)
    assert recommender.recommend(OWNER, limit=5).items
    assert change_counter(store) == 0
    record_change(store, "profile", OWNER)
    record_change(store, "opportunity_posted", "o-1")
    assert change_counter(store) == 2
    assert changes_since(store, 1) == [("opportunity_posted", "o-1")]
    store.dispose()


def test_a_store_without_the_time_commitment_still_serves_and_gets_it(tmp_path: Path) -> None:
    world = build_world(tmp_path)
    store = world.store()
    with store.engine.begin() as conn:  # as a store made by the code before the column
        conn.execute(text("ALTER TABLE opportunities DROP COLUMN hours_per_week"))
    recommender = Recommender(world.bundle(), store)  # serving adds the column
    items = recommender.recommend(OWNER, limit=5).items
    assert items and all(i.hours_per_week is None for i in items)
    assert all(o.hours_per_week is None for o in store.opportunities())
    store.dispose()
