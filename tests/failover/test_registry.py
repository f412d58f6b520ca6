"""The fleet registry's deltas against a real database: what a heartbeat's join does to a member a delta has
just read back."""

from pathlib import Path

from feedgate.auth.service import create_user
from feedgate.failover.models import Slicer
from feedgate.failover.policy import OFFLINE
from feedgate.failover.registry import Registry
from feedgate.failover.schemas import GroupCreate
from feedgate.failover.service import create_group
from feedgate.kit.bulk import insert_rows
from feedgate.kit.db import Database
from feedgate.kit.migrate import upgrade


def test_a_join_of_a_member_a_delta_read_back_keeps_it_as_written(tmp_path: Path) -> None:
    """The heartbeat saw the member missing (a delta had popped it) and joins; by then the delta has put it
    back from the database. The join must not replace it with an unwritten copy: the engine would judge the
    group without its active slicer and fail over away from a slicer that never stopped beating."""
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    upgrade(url)
    db = Database(url)
    with db.sessions() as session:
        user = create_user(session, "reg")
        group = create_group(session, user.id, GroupCreate(name="g"))
        session.commit()
        insert_rows(session, Slicer, [{"id": "kb", "owner": user.id, "slicer_id": "b69", "hostname": "h",
                                       "failover_group_id": group.id, "order": 2, "state": OFFLINE}])
        session.commit()
    registry = Registry(db)
    registry.reload()
    config = registry.current.groups[group.id]
    back = registry.current.members["kb"]
    assert back.written and config.members == ["kb"]

    joined = registry.join("kb", user.id, "b69", config)

    assert joined is back and registry.current.members["kb"].written
    assert config.members == ["kb"] and registry.current.members["kb"].order == 2
    # A slicer not yet in the group still joins: appended, unwritten until its batch commits.
    fresh = registry.join("kc", user.id, "c1", config)
    assert not fresh.written and fresh.order == 3 and config.members == ["kb", "kc"]
    db.dispose()
