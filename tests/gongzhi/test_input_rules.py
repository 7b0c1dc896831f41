"""The core refuses bad input whoever calls it — a form through gongzhi.crud, the spreadsheet
importer, Open311, the account admin — with a Gongzhi error naming the field and saying why in
both languages, and writes nothing: a NUL byte or another control character, a lone surrogate, an
event headcount of 10¹², dates in year 1 or 9999 (each of which used to be stored on SQLite, or
to fail on PostgreSQL as a raw database error)."""

import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from gongzhi import open311
from gongzhi.accounts import create_user
from gongzhi.clock import frozen
from gongzhi.crud.events import EventCreate, create_event, record_attendance
from gongzhi.crud.facilities import FacilityInput, create_facility
from gongzhi.crud.issues import IssueCreate, create_issue
from gongzhi.crud.meetings import MeetingCreate, plan_meeting
from gongzhi.crud.volunteers import VolunteerCreate, create_volunteer, log_service_hours
from gongzhi.db import get_engine, read_session, write_session
from gongzhi.errors import ValidationError
from gongzhi.i18n import translate
from gongzhi.importing import ImportRefused, Sheet, match_headers, read_spreadsheet, run_import
from gongzhi.models import Area, Event, Facility, Issue, Meeting, Person, ServiceRecord, User
from gongzhi.permissions import Actor, Role
from tests.import_files import csv_bytes, make_community

NOW = datetime(2025, 6, 15, 12, 0)
COMMITTEE = Actor(name="测试秘书", role=Role.COMMITTEE)
ADMIN = Actor(name="管理员", role=Role.ADMIN)
SQUARE = {"type": "Polygon", "coordinates": [[[113.9, 22.5], [113.91, 22.5], [113.91, 22.51], [113.9, 22.51],
                                              [113.9, 22.5]]]}


@pytest.fixture
def grid(write) -> int:
    with write() as session:
        area = Area(code="GA", name="网格A", level="grid", population=100, boundary=json.dumps(SQUARE),
                    centroid_lon=113.905, centroid_lat=22.505)
        session.add(area)
        session.flush()
        return area.id


def refusal(write, action) -> list[tuple[str, str]]:
    """(field, reason) of every error `action(session)` is refused with; each also reads as a
    sentence naming its field in both languages."""
    with pytest.raises(ValidationError) as caught, frozen(NOW), write() as session:
        action(session)
    for lang in ("en", "zh-CN"):
        messages = caught.value.messages(lang)
        assert len(messages) == len(caught.value.errors)
        for error, message in zip(caught.value.errors, messages, strict=True):
            assert message.startswith(translate(lang, error.field)) and "errors." not in message
    return [(error.field, error.key) for error in caught.value.errors]


def count(engine, model) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


# -- text through crud --------------------------------------------------------------------------

NUL, SURROGATE = "\x00", "\ud800"


@pytest.mark.parametrize("title", [NUL, f"电梯{NUL}故障", f"电梯故障{SURROGATE}", "电梯\x1b[31m故障", "电梯\n故障"])
def test_an_issue_title_with_a_control_character_or_a_lone_surrogate_is_refused(write, engine, grid, title):
    reasons = refusal(write, lambda session: create_issue(session=session, actor=COMMITTEE, data=IssueCreate(
        title=title, category="repairs", grid_id=grid)))
    expected = "errors.one_line" if "\n" in title else "errors.invalid_character"
    assert reasons == [("issues.field_title", expected)]
    assert count(engine, Issue) == 0


def test_a_lone_surrogate_is_named_in_the_message_not_a_unicode_error(write, grid):
    with pytest.raises(ValidationError) as caught, write() as session:
        create_issue(session=session, actor=COMMITTEE, data=IssueCreate(
            title="路灯不亮", description=f"晚上{SURROGATE}很黑", category="repairs", grid_id=grid))
    assert caught.value.messages("en") == [
        "Description: contains an invisible control or invalid character (U+D800); please remove it"]
    assert caught.value.messages("zh-CN")[0].endswith("含有不可见的控制字符或无效字符（U+D800），请删除后重试")


def test_long_text_keeps_its_line_breaks_and_tabs_and_windows_line_ends_become_plain_ones(write, engine, grid):
    with write() as session:
        issue_id = create_issue(session=session, actor=COMMITTEE, data=IssueCreate(
            title="  路灯不亮  ", description="第一行\r\n\t第二行\r第三行", category="repairs", grid_id=grid)).id
    with Session(engine) as session:
        issue = session.get(Issue, issue_id)
        assert (issue.title, issue.description) == ("路灯不亮", "第一行\n\t第二行\n第三行")


def test_a_title_of_invisible_characters_only_is_required(write, grid):
    reasons = refusal(write, lambda session: create_issue(session=session, actor=COMMITTEE, data=IssueCreate(
        title="\u3000\u200b\ufeff ", category="repairs", grid_id=grid)))
    assert reasons == [("issues.field_title", "errors.required")]


def test_nul_is_refused_in_event_titles_names_facilities_and_meetings(write, engine, grid):
    start = NOW - timedelta(days=2)
    assert refusal(write, lambda session: create_event(session=session, actor=COMMITTEE, data=EventCreate(
        title=f"读书会{NUL}", kind="culture_sports", starts_at=start, ends_at=start + timedelta(hours=1)))) == [
        ("events.field_title", "errors.invalid_character")]
    assert refusal(write, lambda session: create_volunteer(session=session, actor=COMMITTEE, data=VolunteerCreate(
        name=f"张{NUL}伟", grid_id=grid))) == [("volunteers.field_name", "errors.invalid_character")]
    assert refusal(write, lambda session: create_facility(session=session, actor=COMMITTEE, data=FacilityInput(
        name=f"{NUL}", kind="library", grid_id=grid, lon=113.905, lat=22.505))) == [
        ("facilities.field_name", "errors.invalid_character")]
    assert refusal(write, lambda session: plan_meeting(session=session, actor=COMMITTEE, data=MeetingCreate(
        title=f"议事会{NUL}", kind="deliberation", held_at=NOW))) == [
        ("meetings.field_title", "errors.invalid_character")]
    assert [count(engine, model) for model in (Event, Person, Facility, Meeting)] == [0, 0, 0, 0]


# -- numbers and dates through crud -------------------------------------------------------------


def test_an_event_headcount_of_a_trillion_is_refused(write, engine):
    start = NOW - timedelta(days=2)
    reasons = refusal(write, lambda session: create_event(session=session, actor=COMMITTEE, data=EventCreate(
        title="广场舞", kind="culture_sports", starts_at=start, ends_at=start + timedelta(hours=1), headcount=10**12)))
    assert reasons == [("events.field_headcount", "errors.between")]
    with frozen(NOW), write() as session:
        event_id = create_event(session=session, actor=COMMITTEE, data=EventCreate(
            title="广场舞", kind="culture_sports", starts_at=start, ends_at=start + timedelta(hours=1))).id
    assert refusal(write, lambda session: record_attendance(
        session=session, actor=COMMITTEE, event_id=event_id, person_ids=[], headcount=10**12)) == [
        ("events.field_headcount", "errors.between")]
    with Session(engine) as session:
        assert session.get(Event, event_id).headcount == 0


@pytest.mark.parametrize("moment", [datetime(1, 1, 1, 9, 0), datetime(9999, 12, 30, 9, 0)])
def test_events_and_meetings_in_year_1_or_9999_are_refused(write, engine, moment):
    reasons = refusal(write, lambda session: create_event(session=session, actor=COMMITTEE, data=EventCreate(
        title="广场舞", kind="culture_sports", starts_at=moment, ends_at=moment + timedelta(hours=1))))
    assert reasons == [("events.field_starts_at", "errors.date_between"), ("events.field_ends_at", "errors.date_between")]
    assert refusal(write, lambda session: plan_meeting(session=session, actor=COMMITTEE, data=MeetingCreate(
        title="议事会", kind="deliberation", held_at=moment))) == [("meetings.field_held_at", "errors.date_between")]
    assert count(engine, Event) == count(engine, Meeting) == 0


def test_the_date_window_is_named_in_the_message(write):
    with pytest.raises(ValidationError) as caught, frozen(NOW), write() as session:
        plan_meeting(session=session, actor=COMMITTEE, data=MeetingCreate(
            title="议事会", kind="deliberation", held_at=datetime(9999, 1, 1)))
    assert caught.value.messages("en") == ["Date: must be a date between 1990-01-01 and 2035-06-15"]


@pytest.mark.parametrize("served_on", [date(1, 1, 1), date(1989, 12, 31)])
def test_service_hours_on_a_day_before_the_window_are_refused(write, engine, grid, served_on):
    with frozen(NOW), write() as session:
        volunteer_id = create_volunteer(session=session, actor=COMMITTEE, data=VolunteerCreate(
            name="张伟", grid_id=grid)).id
    assert refusal(write, lambda session: log_service_hours(
        session=session, actor=COMMITTEE, volunteer_id=volunteer_id, served_on=served_on, hours=2)) == [
        ("volunteers.field_served_on", "errors.date_between")]
    assert count(engine, ServiceRecord) == 0


def test_a_meeting_quorum_has_an_upper_bound(write, engine):
    assert refusal(write, lambda session: plan_meeting(session=session, actor=COMMITTEE, data=MeetingCreate(
        title="议事会", kind="deliberation", held_at=NOW, quorum=10**12))) == [
        ("meetings.field_quorum", "errors.between")]


# -- accounts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "field", "reason"), [
    ({"username": f"wang{NUL}"}, "auth.field_username", "errors.invalid_character"),
    ({"display_name": f"王芳{NUL}"}, "accounts.field_display_name", "errors.invalid_character"),
    ({"display_name": f"王芳{SURROGATE}"}, "accounts.field_display_name", "errors.invalid_character"),
    ({"password": f"long-enough-{SURROGATE}"}, "auth.field_password", "errors.invalid_character"),
])
def test_accounts_refuse_control_characters_and_lone_surrogates(write, engine, changes, field, reason):
    values = {"username": "wang.fang", "password": "long-enough-password", "display_name": "王芳", **changes}
    assert refusal(write, lambda session: create_user(session=session, role="committee", **values)) == [(field, reason)]
    assert count(engine, User) == 0


# -- the spreadsheet importer -------------------------------------------------------------------

EVENT_HEADER = ["活动名称", "类型", "开始时间", "结束时间", "匿名人数"]


def _import_problems(url, kind, header, rows, *, as_read: bool = False) -> list[tuple[int, str, str]]:
    """The problems an import of `rows` is refused with: from a CSV file, or (`as_read`) as a
    reader hands them on, for characters no CSV the reader accepts can hold (NUL)."""
    if as_read:
        sheet = Sheet("csv", "utf-8", header, list(enumerate(rows, start=2)))
    else:
        sheet = read_spreadsheet(csv_bytes(header, rows, encoding="utf-8"), "f.csv")
    engine = get_engine(url)
    with read_session(engine) as session:
        mapping = match_headers(kind, sheet.headers)
    with pytest.raises(ImportRefused) as caught, frozen(NOW), write_session(engine, actor=COMMITTEE) as session:
        run_import(session, kind=kind, sheet=sheet, mapping=mapping, actor=COMMITTEE)
    for problem in caught.value.plan.problems:
        for lang in ("en", "zh-CN"):
            assert problem.reason(lang) and "errors." not in problem.reason(lang)
    return [(p.row, p.column, p.key) for p in caught.value.plan.problems]


def test_the_importer_refuses_control_characters(db_url):
    make_community(db_url)
    rows = [["读书会\x07", "文体活动", "2025-05-02 10:00", "2025-05-02 11:00", ""],
            ["读书会", "文体活动", "2025-05-03 10:00", "2025-05-03 11:00", ""]]
    assert _import_problems(db_url, "events", EVENT_HEADER, rows) == [(2, "活动名称", "errors.invalid_character")]
    assert count(get_engine(db_url), Event) == 1  # the community's own event only


def test_the_importer_refuses_nul_and_lone_surrogates_whatever_the_reader_lets_through(db_url):
    make_community(db_url)
    rows = [[f"读书会{NUL}", "文体活动", "2025-05-01 10:00", "2025-05-01 11:00", ""],
            [f"读书会{SURROGATE}", "文体活动", "2025-05-02 10:00", "2025-05-02 11:00", ""],
            ["读书会", "文体活动", "2025-05-03 10:00", "2025-05-03 11:00", ""]]
    assert _import_problems(db_url, "events", EVENT_HEADER, rows, as_read=True) == [
        (2, "活动名称", "errors.invalid_character"), (3, "活动名称", "errors.invalid_character")]
    people = [[f"张{NUL}伟", "", "G01"], ["李娜", "", "G01"]]
    assert _import_problems(db_url, "people", ["姓名", "手机号码", "所属网格"], people, as_read=True) == [
        (2, "姓名", "errors.invalid_character")]
    assert count(get_engine(db_url), Event) == 1


@pytest.mark.parametrize("headcount", ["1000000", "1000000000000"])
def test_the_importer_refuses_a_headcount_out_of_bounds(db_url, headcount):
    make_community(db_url)
    rows = [["广场舞", "文体活动", "2025-05-01 19:00", "2025-05-01 21:00", headcount]]
    assert _import_problems(db_url, "events", EVENT_HEADER, rows) == [(2, "匿名人数", "errors.between")]


@pytest.mark.parametrize(("day", "reported_reason"), [("0001-01-01", "errors.date_between"),
                                                      ("9999-12-31", "errors.date_in_future")])
def test_the_importer_refuses_dates_in_year_1_or_9999(db_url, day, reported_reason):
    make_community(db_url)
    rows = [["广场舞", "文体活动", f"{day} 09:00", "2025-05-01 21:00", ""]]
    assert _import_problems(db_url, "events", EVENT_HEADER, rows) == [(2, "开始时间", "errors.date_between")]
    issues = [["路灯不亮", "repairs", "G01", f"{day} 08:00"]]
    assert _import_problems(db_url, "issues", ["标题", "类别", "所属网格", "上报时间"], issues) == [
        (2, "上报时间", reported_reason)]


# -- Open311 ------------------------------------------------------------------------------------


def _open311(write, rows) -> list[tuple[int, str]]:
    with pytest.raises(open311.Open311ImportError) as caught, frozen(NOW), write() as session:
        open311.import_requests(session=session, actor=COMMITTEE, data=json.dumps(rows).encode())
    assert all(problem.reason for problem in caught.value.problems)
    return [(problem.row, problem.field) for problem in caught.value.problems]


def test_open311_refuses_nul_lone_surrogates_and_times_out_of_the_window(write, engine, grid):
    base = {"service_code": "repairs", "lat": "22.505", "long": "113.905"}
    rows = [{**base, "description": f"路灯不亮{NUL}"},
            {**base, "description": f"路灯不亮\n晚上{SURROGATE}很黑"},
            {**base, "description": "路灯不亮", "requested_datetime": "9999-12-31T09:00:00+08:00"},
            {**base, "description": "路灯不亮", "requested_datetime": "0001-01-01T00:00:00+08:00"}]
    assert _open311(write, rows) == [(1, "description"), (2, "description"), (3, "requested_datetime"),
                                     (4, "requested_datetime")]
    assert count(engine, Issue) == 0


def test_the_importer_refuses_days_after_today_where_the_forms_do(db_url):
    """A volunteer cannot have joined, nor an issue have been reported, tomorrow: the same rule
    as the volunteer form's (and Open311's)."""
    make_community(db_url)
    tomorrow = (NOW + timedelta(days=1)).strftime("%Y-%m-%d")
    volunteers = [["张伟", "", "G01", tomorrow], ["李娜", "", "G01", "2025-06-14"]]
    assert _import_problems(db_url, "volunteers", ["姓名", "手机号码", "所属网格", "加入日期"], volunteers) == [
        (2, "加入日期", "errors.date_in_future")]
    issues = [["路灯不亮", "repairs", "G01", f"{tomorrow} 08:00"]]
    assert _import_problems(db_url, "issues", ["标题", "类别", "所属网格", "上报时间"], issues) == [
        (2, "上报时间", "errors.date_in_future")]
