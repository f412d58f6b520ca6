"""The engine commits a pass's decisions together (a fleet's start is hundreds of activations): on a real
database of each kind, with no server, so nothing else decides meanwhile."""

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from feedgate.failover.engine import _write
from feedgate.failover.models import FailoverEvent, FailoverGroup, Slicer
from feedgate.failover.policy import HEALTHY, Decision, StateChange, Switch
from feedgate.failover.registry import Registry
from feedgate.kit.db import Database
from feedgate.kit.ids import new_id
from feedgate.kit.migrate import upgrade

GROUPS = 300  # more than one statement's worth of anything per-row


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='feedgate-batch-')) / 'f.db'}"
    else:
        url = request.getfixturevalue("postgres").create_database()
    upgrade(url)
    database = Database(url)
    yield database
    database.dispose()


def fleet_of(db: Database) -> Registry:
    with db.sessions() as session, session.begin():
        for i in range(GROUPS):
            group = FailoverGroup(id=new_id(), owner="o", name=f"g{i}")
            session.add(group)
            session.flush()
            for role in ("p", "b"):
                session.add(Slicer(id=new_id(), owner="o", slicer_id=f"{role}{i}", failover_group_id=group.id,
                                   order=1 if role == "p" else 2))
    registry = Registry(db)
    registry.reload()
    return registry


def test_one_pass_commits_every_activation_and_drops_only_what_an_operator_moved(db: Database) -> None:
    registry = fleet_of(db)
    fleet = registry.current
    groups = sorted(fleet.groups.values(), key=lambda g: g.name)
    decided = []
    for group in groups:
        primary, backup = group.members
        decided.append((group, Decision(
            states=[StateChange(primary, HEALTHY, "beats again", 1000), StateChange(backup, HEALTHY, "too", 1001)],
            switch=Switch(primary, "failover", "the group had no active slicer"))))
    moved_by_hand = groups[7]
    with db.sessions() as session, session.begin():  # an operator's switch, after the engine's judgement
        session.execute(update(FailoverGroup).where(FailoverGroup.id == moved_by_hand.id)
                        .values(active_slicer=moved_by_hand.members[1]))
    with db.sessions() as session, session.begin():
        done = _write(session, fleet, decided, 5000)
    assert {g.id for g, _ in done} == {g.id for g in groups} - {moved_by_hand.id}
    with db.reading() as conn:
        active = dict(conn.execute(select(FailoverGroup.id, FailoverGroup.active_slicer)).all())
        states = dict(conn.execute(select(Slicer.id, Slicer.healthy_since_ms)).all())
        kinds = conn.execute(select(FailoverEvent.failover_group_id, FailoverEvent.kind)).all()
    for group in groups:
        primary, backup = group.members
        if group is moved_by_hand:  # the operator's choice stands, and nothing of the stale decision was written
            assert active[group.id] == backup and states[primary] is None
            assert not [k for g, k in kinds if g == group.id]
        else:
            assert active[group.id] == primary and (states[primary], states[backup]) == (1000, 1001)
            assert sorted(k for g, k in kinds if g == group.id) == ["failover", "healthy", "healthy"]


def test_a_delta_from_elsewhere_keeps_a_join_this_process_has_not_written_yet(db: Database) -> None:
    """Two slicers join one group through two instances: the other instance's join arrives here as a delta
    (the group read again) before this instance's batch writes its own. Its own join must survive that, or
    the engine would never see the slicer until the group changed again."""
    registry = fleet_of(db)
    group = next(iter(registry.current.groups.values()))
    mine = registry.join(new_id(), "o", "joined-here", group)
    assert not mine.written
    with db.sessions() as session, session.begin():  # the other instance's join, committed
        session.add(Slicer(id=new_id(), owner="o", slicer_id="joined-there", failover_group_id=group.id, order=3))
    registry.apply([group.id])
    fleet = registry.current
    names = {fleet.members[k].slicer_id for k in fleet.groups[group.id].members}
    assert names == {f"p{group.name[1:]}", f"b{group.name[1:]}", "joined-there", "joined-here"}
    registry.apply([group.id], [mine.key])  # read again on purpose (its join lost a race): the rows decide
    assert mine.key not in fleet.groups[group.id].members
