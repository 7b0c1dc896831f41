"""Sign-in sessions and display links in the core: tokens of 256 bits stored only as hashes, idle
and absolute lifetimes (settings), every change to what an account may do ends its sessions, one's
own and an admin's ends, display links that expire and can be revoked; every end audited."""

import hashlib
import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from gongzhi import i18n
from gongzhi.accounts import create_user, reset_password, update_account
from gongzhi.clock import frozen
from gongzhi.db import write_session
from gongzhi.errors import PermissionDenied, ValidationError
from gongzhi.models import Area, AuditEntry, DisplayLink, LoginSession, User
from gongzhi.permissions import Actor, Role
from gongzhi.sessions import (
    EndReason,
    check_session,
    create_display_link,
    display_link_for,
    end_account_sessions,
    end_other_sessions,
    list_display_links,
    list_sessions,
    revoke_display_link,
    start_session,
    token_hash,
    touch,
)

AT = datetime(2026, 6, 1, 9, 0)
PASSWORD = "correct horse battery"


@pytest.fixture
def users(write) -> dict[str, int]:
    with write() as session:
        grid = Area(code="G01", name="第一网格", level="grid")
        session.add(grid)
        session.flush()
        ids = {role: create_user(session=session, username=role, password=PASSWORD, role=role,
                                 grid_ids=(grid.id,) if role == Role.LEADER else ()).id
               for role in (Role.ADMIN, Role.COMMITTEE, Role.LEADER)}
        ids["grid"] = grid.id
    return ids


def _admin(users) -> Actor:
    return Actor(name="admin", role=Role.ADMIN, user_id=users[Role.ADMIN])


def _start(write, user_id: int, at: datetime = AT) -> str:
    with frozen(at), write() as session:
        return start_session(session=session, user_id=user_id, address="203.0.113.9", user_agent="Chrome/140 Linux")


def _check(session, token: str, at: datetime):
    with frozen(at):
        return check_session(session=session, token=token)


def test_a_token_is_long_random_and_only_its_hash_is_stored(write, session, users):
    tokens = {_start(write, users[Role.LEADER]) for _ in range(3)}
    assert len(tokens) == 3
    for token in tokens:
        assert len(token) >= 43  # 32 random bytes in URL-safe base64: 256 bits
    rows = session.execute(select(LoginSession)).scalars().all()
    stored = {row.token_hash for row in rows}
    assert stored == {hashlib.sha256(token.encode()).hexdigest() for token in tokens}
    for row in rows:
        assert all(token not in json.dumps(row.model_dump(), default=str) for token in tokens)
        assert (row.address, row.user_agent, row.created_at, row.last_seen_at) == (
            "203.0.113.9", "Chrome/140 Linux", AT, AT)
    trail = " ".join(f"{entry.before} {entry.after}" for entry in session.execute(select(AuditEntry)).scalars())
    assert all(token not in trail and token_hash(token) not in trail for token in tokens)


def test_a_session_signs_in_as_its_account_until_idle_or_too_old(write, session, users, monkeypatch):
    token = _start(write, users[Role.LEADER])
    check = _check(session, token, AT + timedelta(hours=11, minutes=59))
    assert check.actor.user_id == users[Role.LEADER] and check.actor.role == Role.LEADER and check.ended is None
    assert _check(session, token, AT + timedelta(hours=12, seconds=1)).ended == EndReason.IDLE  # default 12 h idle
    assert _check(session, "not a token", AT).actor is None
    assert _check(session, None, AT).actor is None
    monkeypatch.setenv("GONGZHI_SESSION_IDLE_HOURS", "1")
    assert _check(session, token, AT + timedelta(minutes=61)).ended == EndReason.IDLE
    monkeypatch.setenv("GONGZHI_SESSION_IDLE_HOURS", "10000")
    # Used every day, it still ends 30 days after it began (the absolute lifetime, default 30 days).
    for day in range(1, 31):
        with frozen(AT + timedelta(days=day)), write() as writing:
            touch(session=writing, session_id=check.session_id)
    session.rollback()  # a new read transaction sees what the writes committed
    assert _check(session, token, AT + timedelta(days=29, hours=23)).actor is not None
    assert _check(session, token, AT + timedelta(days=30, seconds=1)).ended == EndReason.EXPIRED
    monkeypatch.setenv("GONGZHI_SESSION_MAX_DAYS", "2")
    assert _check(session, token, AT + timedelta(days=2, seconds=1)).ended == EndReason.EXPIRED


def test_last_seen_is_refreshed_at_most_once_a_minute(write, session, users):
    token = _start(write, users[Role.LEADER])
    assert not _check(session, token, AT + timedelta(seconds=59)).touch
    assert _check(session, token, AT + timedelta(seconds=60)).touch


@pytest.mark.parametrize(("change", "reason"), [
    ("password", EndReason.PASSWORD), ("role", EndReason.ROLE), ("grids", EndReason.ROLE),
    ("disable", EndReason.DISABLED)])
def test_whatever_changes_what_an_account_may_do_ends_all_its_sessions(write, session, users, change, reason):
    leader = users[Role.LEADER]
    tokens = [_start(write, leader), _start(write, leader)]
    other = _start(write, users[Role.COMMITTEE])
    with frozen(AT + timedelta(minutes=5)), write() as writing:
        if change == "password":
            reset_password(session=writing, actor=_admin(users), user_id=leader, new_password="a new long password")
        else:
            grids = (users["grid"],)
            if change == "grids":
                second = Area(code="G02", name="第二网格", level="grid")
                writing.add(second)
                writing.flush()
                grids = (second.id,)
            update_account(session=writing, actor=_admin(users), user_id=leader,
                           display_name=writing.get(User, leader).display_name,
                           role=Role.COMMITTEE if change == "role" else Role.LEADER,
                           grid_ids=grids, active=change != "disable", expected_version=None)
    session.rollback()  # a new read transaction sees what the writes committed
    for token in tokens:
        check = _check(session, token, AT + timedelta(minutes=6))
        assert check.actor is None and check.ended == reason
    assert _check(session, other, AT + timedelta(minutes=6)).actor is not None  # another account's stays
    ends = [json.loads(entry.after) for entry in session.execute(
        select(AuditEntry).where(AuditEntry.table_name == "loginsession", AuditEntry.action == "update")).scalars()]
    assert sorted(entry["end_reason"] for entry in ends) == [reason.value, reason.value]
    assert all(entry["token_hash"] == "***" for entry in ends)


def test_a_display_name_change_keeps_the_sessions(write, session, users):
    leader = users[Role.LEADER]
    token = _start(write, leader)
    with write() as writing:
        update_account(session=writing, actor=_admin(users), user_id=leader, display_name="新名字", role=Role.LEADER,
                       grid_ids=(users["grid"],), active=True, expected_version=None)
    assert _check(session, token, AT + timedelta(minutes=1)).actor.name == "新名字"


def test_sign_out_everywhere_else_keeps_this_session_and_lists_what_is_left(write, session, users):
    leader = users[Role.LEADER]
    here, phone, tablet = (_start(write, leader, AT + timedelta(minutes=i)) for i in range(3))
    me = _check(session, here, AT + timedelta(minutes=3))
    with frozen(AT + timedelta(minutes=3)):
        listed = list_sessions(session=session, actor=me.actor)
    assert len(listed) == 3 and listed["created_at"].tolist() == [AT + timedelta(minutes=i) for i in (2, 1, 0)]
    with frozen(AT + timedelta(minutes=4)), write() as writing:
        assert end_other_sessions(session=writing, actor=me.actor, current_session_id=me.session_id) == 2
    session.rollback()  # a new read transaction sees what the writes committed
    assert _check(session, here, AT + timedelta(minutes=5)).actor is not None
    assert {_check(session, token, AT + timedelta(minutes=5)).ended for token in (phone, tablet)} == {EndReason.OWNER}
    with frozen(AT + timedelta(minutes=5)):
        assert list_sessions(session=session, actor=me.actor)["id"].tolist() == [me.session_id]


def test_only_an_admin_lists_or_ends_another_accounts_sessions(write, session, engine, users):
    leader = users[Role.LEADER]
    token = _start(write, leader)
    committee = Actor(name="c", role=Role.COMMITTEE, user_id=users[Role.COMMITTEE])
    with pytest.raises(PermissionDenied):
        list_sessions(session=session, actor=committee, user_id=leader)
    with pytest.raises(PermissionDenied), write() as writing:
        end_account_sessions(session=writing, actor=committee, user_id=leader)
    with frozen(AT + timedelta(minutes=1)):
        assert len(list_sessions(session=session, actor=_admin(users), user_id=leader)) == 1
    with frozen(AT + timedelta(minutes=1)), write_session(engine, actor=_admin(users)) as writing:
        assert end_account_sessions(session=writing, actor=_admin(users), user_id=leader) == 1
    session.rollback()  # a new read transaction sees what the writes committed
    assert _check(session, token, AT + timedelta(minutes=2)).ended == EndReason.ADMIN
    entry = session.execute(select(AuditEntry).where(AuditEntry.table_name == "loginsession",
                                                     AuditEntry.action == "update")).scalar_one()
    assert entry.actor == "admin" and json.loads(entry.after)["end_reason"] == "ended_by_admin"


def test_a_display_link_works_until_it_expires_or_is_revoked_and_is_audited(session, engine, users):
    committee = Actor(name="居委会秘书", role=Role.COMMITTEE, user_id=users[Role.COMMITTEE])

    def write():
        return write_session(engine, actor=committee)

    with frozen(AT), write() as writing:
        link, token = create_display_link(session=writing, actor=committee, label="会议室  屏幕")
        link_id = link.id
    assert len(token) >= 43
    stored = session.get(DisplayLink, link_id)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() and stored.label == "会议室 屏幕"
    assert stored.expires_at == AT + timedelta(hours=24)  # the default lifetime
    with frozen(AT + timedelta(hours=23, minutes=59)):
        assert display_link_for(session=session, token=token).id == link_id
        assert list_display_links(session=session, actor=committee)["id"].tolist() == [link_id]
    with frozen(AT + timedelta(hours=24)):
        assert display_link_for(session=session, token=token) is None
        assert list_display_links(session=session, actor=committee).empty
    with frozen(AT), write() as writing:
        _, second = create_display_link(session=writing, actor=committee, label="", hours=2)
    with frozen(AT + timedelta(minutes=1)), write() as writing:
        revoke_display_link(session=writing, actor=committee,
                            link_id=display_link_for(session=writing, token=second).id)
    session.rollback()  # a new read transaction sees what the writes committed
    with frozen(AT + timedelta(minutes=1)):
        assert display_link_for(session=session, token=second) is None
    actions = [(entry.action, entry.actor) for entry in session.execute(
        select(AuditEntry).where(AuditEntry.table_name == "displaylink").order_by(AuditEntry.id)).scalars()]
    assert actions == [("insert", "居委会秘书"), ("insert", "居委会秘书"), ("update", "居委会秘书")]


@pytest.mark.parametrize("role", [Role.LEADER, Role.PUBLIC])
def test_only_admin_and_committee_make_display_links(write, users, role):
    actor = Actor(name="x", role=role, user_id=users.get(role))
    with pytest.raises(PermissionDenied), write() as writing:
        create_display_link(session=writing, actor=actor, label="screen")


def test_a_display_link_label_and_lifetime_are_checked(write, users):
    committee = Actor(name="c", role=Role.COMMITTEE, user_id=users[Role.COMMITTEE])
    for label, hours in (("x" * 81, 24), ("screen", 0), ("screen", 24 * 32)):
        with pytest.raises(ValidationError), write() as writing:
            create_display_link(session=writing, actor=committee, label=label, hours=hours)


def test_a_display_link_keeps_the_view_it_opens(write, session, users):
    committee = Actor(name="c", role=Role.COMMITTEE, user_id=users[Role.COMMITTEE])
    with frozen(AT), write() as writing:
        _, slideshow = create_display_link(session=writing, actor=committee, label="lobby")
        _, meeting = create_display_link(session=writing, actor=committee, label="room", view="live_meeting")
    with frozen(AT):
        assert display_link_for(session=session, token=slideshow).view == "slideshow"  # the default
        assert display_link_for(session=session, token=meeting).view == "live_meeting"
        assert list_display_links(session=session, actor=committee)["view"].tolist() == ["live_meeting", "slideshow"]
    with pytest.raises(ValidationError) as refused, write() as writing:
        create_display_link(session=writing, actor=committee, label="x", view="issues")
    assert refused.value.messages("en") == ["The screen shows: " + i18n.translate("en", "errors.invalid_choice")]
