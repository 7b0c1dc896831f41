"""A refused save says who changed the record and when, from the audit trail: both when the
core sees the version moved (Conflict) and when the database refuses a stale UPDATE
(StaleDataError, explained by gongzhi.audit.stale_conflict for components.forms.save)."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from gongzhi.audit import AUDIT_KEY, VERSIONED_WRITES_KEY, stale_conflict
from gongzhi.clock import frozen
from gongzhi.crud.events import EventUpdate, update_event
from gongzhi.db import write_session
from gongzhi.errors import Conflict
from gongzhi.i18n import translate
from gongzhi.models import Event
from gongzhi.permissions import Actor, Role

AT = datetime(2026, 5, 10, 14, 30)
ADMIN = Actor(name="赵管理员", role=Role.ADMIN)
SECRETARY = Actor(name="王秘书", role=Role.COMMITTEE)


@pytest.fixture
def event_id(write):
    with write() as session:
        event = Event(title="邻里节", kind="culture_sports", starts_at=AT, ends_at=AT + timedelta(hours=2))
        session.add(event)
        session.flush()
        return event.id


def test_a_save_on_an_older_version_names_who_changed_it_and_when(engine, event_id):
    with frozen(AT), write_session(engine, actor=ADMIN) as session:
        session.get(Event, event_id).place = "礼堂"
    with pytest.raises(Conflict) as refused, write_session(engine, actor=SECRETARY) as session:
        update_event(session=session, actor=SECRETARY, event_id=event_id, data=EventUpdate(place="广场"),
                     expected_version=1)
    assert refused.value.message("zh-CN") == translate("zh-CN", "errors.conflict", what="event", id=str(event_id),
                                                       who="赵管理员", when="2026-05-10 14:30")
    assert refused.value.message("zh-CN").startswith("赵管理员 已于 2026-05-10 14:30 修改了该记录")


def test_a_stale_update_refused_by_the_database_is_explained_the_same_way(engine, event_id):
    # A copy loaded in an earlier transaction, as a form that was opened before someone saved.
    stale = Session(engine, expire_on_commit=False)
    stale.info[AUDIT_KEY] = SECRETARY
    copy = stale.get(Event, event_id)
    stale.commit()
    with frozen(AT), write_session(engine, actor=ADMIN) as session:
        session.get(Event, event_id).title = "邻里节（改期）"
    copy.place = "广场"
    with pytest.raises(StaleDataError):
        stale.flush()
    stale.rollback()
    stale.close()
    with Session(engine) as session:
        explained = stale_conflict(session, stale.info.get(VERSIONED_WRITES_KEY))
    assert explained.params == {"what": "event", "id": str(event_id), "who": "赵管理员", "when": "2026-05-10 14:30"}
    with Session(engine) as session:
        assert session.get(Event, event_id).place == ""  # nothing of the stale save was written


def test_without_a_trail_the_message_still_says_the_save_was_not_applied(engine):
    with Session(engine) as session:
        unknown = stale_conflict(session, [])
    assert unknown.key == "errors.conflict_unknown"
    assert "your save was not applied" in unknown.message("en")
