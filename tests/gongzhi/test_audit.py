"""Every write in a write session leaves an audit entry with the values before and after."""

import json

from sqlalchemy import select

from gongzhi.clock import now
from gongzhi.db import read_session, write_session
from gongzhi.models import AuditEntry, Organisation, User
from gongzhi.permissions import Actor, Role

SECRETARY = Actor(name="李秘书", role=Role.COMMITTEE)


def _entries(engine):
    with read_session(engine) as session:
        return session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()


def test_insert_update_soft_delete_and_restore_are_recorded(engine):
    with write_session(engine, actor=SECRETARY) as session:
        session.add(Organisation(name="社工站", kind="social_work_agency"))
    with write_session(engine, actor=SECRETARY) as session:
        session.get(Organisation, 1).description = "三社联动"
    with write_session(engine, actor=SECRETARY) as session:
        session.get(Organisation, 1).deleted_at = now()
    with write_session(engine, actor=SECRETARY) as session:
        session.get(Organisation, 1).deleted_at = None

    entries = _entries(engine)
    assert [e.action for e in entries] == ["insert", "update", "soft_delete", "restore"]
    assert {(e.actor, e.actor_role, e.table_name, e.record_id) for e in entries} == {
        ("李秘书", "committee", "organisation", "1")}
    inserted, updated = entries[0], entries[1]
    assert inserted.before is None and json.loads(inserted.after)["name"] == "社工站"
    assert json.loads(updated.before)["description"] == ""
    assert json.loads(updated.after)["description"] == "三社联动"
    assert json.loads(updated.after)["version"] == 2


def test_a_rolled_back_write_leaves_no_audit_entry(engine):
    try:
        with write_session(engine, actor=SECRETARY) as session:
            session.add(Organisation(name="x", kind="committee"))
            session.flush()
            raise ValueError
    except ValueError:
        pass
    assert _entries(engine) == []


def test_writes_without_a_named_actor_are_attributed_to_the_system(engine):
    with write_session(engine) as session:
        session.add(Organisation(name="物业", kind="property_manager"))
    assert [(e.actor, e.action) for e in _entries(engine)] == [("system", "insert")]


def test_password_hashes_never_reach_the_audit_trail(engine):
    with write_session(engine, actor=SECRETARY) as session:
        session.add(User(username="u", display_name="U", password_hash="$argon2id$secret", role="committee"))
    (entry,) = _entries(engine)
    assert "secret" not in entry.after and json.loads(entry.after)["password_hash"] == "***"


def test_a_password_change_is_audited_as_a_change_without_the_value(engine):
    with write_session(engine, actor=SECRETARY) as session:
        session.add(User(username="u", display_name="U", password_hash="$argon2id$old", role="committee"))
    with write_session(engine, actor=SECRETARY) as session:
        session.get(User, 1).password_hash = "$argon2id$new"
    update = _entries(engine)[-1]
    assert update.action == "update"
    assert json.loads(update.before)["password_hash"] == "***"
    assert json.loads(update.after)["password_hash"] == "*** (changed)"
    assert "old" not in update.before + update.after and "new" not in update.after.replace("(changed)", "")
