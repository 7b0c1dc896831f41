"""Exports: every list in both formats as each role may read it (no full phone number for a
representative, none of another grid's people for a grid leader, scanned over every cell's text),
formula-like cells neutralised, values equal to the page's query and to independent SQL counts,
the full archive against SELECT COUNT(*), and one person's archive holding their data only."""

import csv
import io
import json
import re
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlmodel import Session

from gongzhi import exports
from gongzhi.crud.issues import IssueCreate, create_issue
from gongzhi.db import get_engine, read_session, write_session
from gongzhi.errors import PermissionDenied
from gongzhi.i18n import translate
from gongzhi.models import AuditEntry, Person
from gongzhi.permissions import Actor, Role
from gongzhi.privacy import mask_phone, phone_for
from gongzhi.queries.issues import list_issues
from tests.conftest import Sql
from tests.personal_data import FULL_MOBILE, cell_texts, full_mobiles_in_file

ADMIN = Actor(name="导出管理员", role=Role.ADMIN)
COMMITTEE = Actor(name="导出秘书", role=Role.COMMITTEE)
REPRESENTATIVE = Actor(name="导出代表", role=Role.REPRESENTATIVE)
INJECTION = "=HYPERLINK(\"http://evil.example\",\"click\")"


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def national(phone: str) -> str:
    return phone[3:] if phone.startswith("+86") else phone


@pytest.fixture
def demo_db(demo_url):
    return demo_url, Sql(demo_url)


def first_grid(connection) -> int:
    return connection.execute("SELECT id FROM area WHERE level = 'grid' ORDER BY code LIMIT 1").fetchone()[0]


def all_exports(url: str, actor: Actor, lang: str = "zh-CN"):
    with read_session(get_engine(url)) as session:
        for kind in exports.LIST_KINDS:
            table = exports.export_list(session=session, kind=kind, actor=actor, lang=lang)
            for fmt in ("csv", "xlsx"):
                yield kind, fmt, table, table.to_file(fmt)


def test_a_representative_gets_no_full_phone_number_in_any_export(demo_db):
    url, _ = demo_db
    seen = set()
    for kind, fmt, table, data in all_exports(url, REPRESENTATIVE):
        assert not full_mobiles_in_file(data, fmt), (kind, fmt)
        seen.add(kind)
        if kind == "volunteers":
            assert table.rows and all("****" in row[1] for row in table.rows if row[1])
    assert seen == set(exports.LIST_KINDS)


def test_the_scan_does_find_full_numbers_in_the_committees_exports(demo_db):
    url, _ = demo_db
    found = {kind for kind, fmt, _, data in all_exports(url, COMMITTEE) if full_mobiles_in_file(data, fmt)}
    assert found == {"volunteers", "attendance"}


def test_a_grid_leader_sees_full_numbers_of_their_own_grid_only(demo_db):
    url, connection = demo_db
    grid = first_grid(connection)
    leader = Actor(name="导出网格长", role=Role.LEADER, grid_ids=frozenset({grid}))
    phones = connection.execute("SELECT phone, grid_id FROM person WHERE phone IS NOT NULL").fetchall()
    others = {national(phone) for phone, grid_id in phones if grid_id != grid}
    own = {national(phone) for phone, grid_id in phones if grid_id == grid}
    own_shown = set()
    for kind, fmt, _, data in all_exports(url, leader):
        full = set(full_mobiles_in_file(data, fmt))
        assert not full & others, (kind, fmt)
        own_shown |= full & own
    assert own_shown  # the volunteers and attendees of their own grid, in full


def test_names_of_attendees_and_reporters_are_left_out_for_a_representative(demo_db):
    url, _ = demo_db
    with read_session(get_engine(url)) as session:
        for actor, expect in ((REPRESENTATIVE, False), (COMMITTEE, True)):
            issues = exports.export_list(session=session, kind="issues", actor=actor, lang="en")
            attendance = exports.export_list(session=session, kind="attendance", actor=actor, lang="en")
            assert (translate("en", "issues.col_reporter") in issues.header) is expect
            assert (translate("en", "volunteers.col_name") in attendance.header) is expect
            assert attendance.rows


def test_a_formula_like_cell_is_neutralised_in_csv_and_xlsx(demo_db):
    url, connection = demo_db
    grid = first_grid(connection)
    with write_session(get_engine(url), actor=COMMITTEE) as session:
        issue_id = create_issue(session=session, actor=COMMITTEE,
                                data=IssueCreate(title=INJECTION, category="noise", grid_id=grid)).id
    with read_session(get_engine(url)) as session:
        table = exports.export_list(session=session, kind="issues", actor=COMMITTEE, lang="en")
    rows = csv_rows(table.to_file("csv"))
    row = next(r for r in rows[1:] if r[0] == str(issue_id))
    assert row[1] == "'" + INJECTION
    sheet = load_workbook(io.BytesIO(table.to_file("xlsx"))).active
    cells = [cell for cell in sheet["B"] if isinstance(cell.value, str) and INJECTION in cell.value]
    assert len(cells) == 1 and cells[0].value == "'" + INJECTION and cells[0].data_type == "s"


def test_exported_issues_are_the_pages_query_rows_and_the_count_sql_gives(demo_db):
    url, connection = demo_db
    grid = first_grid(connection)
    with read_session(get_engine(url)) as session:
        everything = exports.export_list(session=session, kind="issues", actor=COMMITTEE, lang="en")
        noise = exports.export_list(session=session, kind="issues", actor=COMMITTEE, lang="en", grid_id=grid,
                                    category="noise")
        page = list_issues(session=session, grid_id=grid, category="noise", include_open=True,
                           may_see_personal_data=True)
    assert len(everything.rows) == connection.execute(
        "SELECT COUNT(*) FROM issue WHERE deleted_at IS NULL").fetchone()[0]
    assert [row[0] for row in noise.rows] == list(page["id"])
    assert len(noise.rows) == connection.execute(
        "SELECT COUNT(*) FROM issue WHERE deleted_at IS NULL AND grid_id = :grid AND category = 'noise'",
        grid=grid).fetchone()[0]
    # the XLSX holds the same rows as the CSV
    sheet = load_workbook(io.BytesIO(noise.to_file("xlsx"))).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [row[0] for row in noise.rows]


def test_exported_roster_attendance_meetings_and_decisions_match_sql(demo_db):
    url, connection = demo_db
    with read_session(get_engine(url)) as session:
        tables = {kind: exports.export_list(session=session, kind=kind, actor=COMMITTEE, lang="en")
                  for kind in ("volunteers", "attendance", "meetings", "decisions", "events")}
    volunteers = tables["volunteers"]
    hours = volunteers.header.index(translate("en", "volunteers.col_total_hours"))
    expected_count, expected_hours = connection.execute(
        "SELECT COUNT(DISTINCT v.id), (SELECT SUM(s.hours) FROM servicerecord s JOIN volunteer v2 "
        " ON v2.id = s.volunteer_id JOIN person p2 ON p2.id = v2.person_id "
        " WHERE v2.deleted_at IS NULL AND p2.deleted_at IS NULL) "
        "FROM volunteer v JOIN person p ON p.id = v.person_id WHERE v.deleted_at IS NULL AND p.deleted_at IS NULL"
    ).fetchone()
    assert len(volunteers.rows) == expected_count
    assert sum(row[hours] for row in volunteers.rows) == pytest.approx(expected_hours, abs=0.01 * expected_count)
    assert len(tables["attendance"].rows) == connection.execute(
        "SELECT COUNT(*) FROM attendance a JOIN event e ON e.id = a.event_id JOIN person p ON p.id = a.person_id "
        "WHERE e.deleted_at IS NULL AND p.deleted_at IS NULL").fetchone()[0]
    assert len(tables["meetings"].rows) == connection.execute(
        "SELECT COUNT(*) FROM meeting WHERE deleted_at IS NULL").fetchone()[0]
    assert len(tables["decisions"].rows) == connection.execute(
        "SELECT COUNT(*) FROM agendaitem a JOIN meeting m ON m.id = a.meeting_id LEFT JOIN issue i ON i.id = a.issue_id "
        "WHERE a.decision IS NOT NULL AND m.deleted_at IS NULL AND (a.issue_id IS NULL OR i.deleted_at IS NULL)"
    ).fetchone()[0]
    events = tables["events"]
    total = events.header.index(translate("en", "events.col_total"))
    named, headcount = connection.execute(
        "SELECT (SELECT COUNT(*) FROM attendance a JOIN event e ON e.id = a.event_id JOIN person p ON p.id = a.person_id"
        " WHERE e.deleted_at IS NULL AND p.deleted_at IS NULL), (SELECT SUM(headcount) FROM event WHERE deleted_at IS NULL)"
    ).fetchone()
    assert len(events.rows) == connection.execute("SELECT COUNT(*) FROM event WHERE deleted_at IS NULL").fetchone()[0]
    assert sum(row[total] for row in events.rows) == named + headcount


def test_headers_are_in_the_readers_language(demo_db):
    url, _ = demo_db
    with read_session(get_engine(url)) as session:
        chinese = exports.export_list(session=session, kind="volunteers", actor=COMMITTEE, lang="zh-CN")
        english = exports.export_list(session=session, kind="volunteers", actor=COMMITTEE, lang="en")
    assert english.header[:2] == [translate("en", "volunteers.col_name"), translate("en", "volunteers.col_phone")]
    assert chinese.header != english.header and all(re.search(r"[\u4e00-\u9fff]", name) for name in chinese.header)


def test_the_full_archive_holds_every_table_with_its_row_count(demo_db):
    url, connection = demo_db
    with write_session(get_engine(url), actor=ADMIN) as session:
        data, counts = exports.full_archive(session=session, actor=ADMIN)
    tables = connection.table_names() - {"alembic_version"}  # the schema's own bookkeeping, not data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read(exports.MANIFEST))
        assert set(manifest["tables"]) == tables == {name.removesuffix(".csv") for name in archive.namelist()
                                                     if name.endswith(".csv")}
        for table in tables:
            expected = connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
            if table == "auditentry":
                expected -= 1  # the export's own entry, written after the archive was read
            rows = csv_rows(archive.read(f"{table}.csv"))
            if table == "datarevision":  # the export's own write bumps a stripe of its kinds: rows may be new
                assert expected - 3 <= len(rows) - 1 <= expected
                expected = len(rows) - 1
            assert manifest["tables"][table] == counts[table] == len(rows) - 1 == expected, table
        users = csv_rows(archive.read("user.csv"))
        hash_column = users[0].index("password_hash")
        assert len(users) > 1 and {row[hash_column] for row in users[1:]} == {"***"}
    assert connection.execute("SELECT actor, action FROM auditentry ORDER BY id DESC LIMIT 1").fetchone() == \
        (ADMIN.name, exports.EXPORT_ACTION)


@pytest.mark.parametrize("actor", [COMMITTEE, REPRESENTATIVE])
def test_full_and_personal_exports_are_for_admins_only(demo_db, actor):
    url, _ = demo_db
    with pytest.raises(PermissionDenied), write_session(get_engine(url), actor=actor) as session:
        exports.full_archive(session=session, actor=actor)
    with pytest.raises(PermissionDenied), write_session(get_engine(url), actor=actor) as session:
        exports.person_archive(session=session, actor=actor, person_id=1)


def test_a_persons_archive_holds_their_data_and_no_one_elses_phone(demo_db):
    url, connection = demo_db
    # someone who volunteers, attended an event and reported an issue
    person_id = connection.execute(
        "SELECT p.id FROM person p JOIN volunteer v ON v.person_id = p.id "
        "WHERE EXISTS (SELECT 1 FROM attendance a WHERE a.person_id = p.id) "
        "AND EXISTS (SELECT 1 FROM issue i WHERE i.reporter_id = p.id) ORDER BY p.id LIMIT 1").fetchone()[0]
    phone, name = connection.execute("SELECT phone, name FROM person WHERE id = :person", person=person_id).fetchone()
    with write_session(get_engine(url), actor=ADMIN) as session:
        # an edit of their record, so the trail holds an entry about them
        session.get(Person, person_id).birth_year = 1960
    with write_session(get_engine(url), actor=ADMIN) as session:
        data, counts = exports.person_archive(session=session, actor=ADMIN, person_id=person_id)
    expected = {
        "volunteer": "SELECT COUNT(*) FROM volunteer WHERE person_id = :person",
        "servicerecord": "SELECT COUNT(*) FROM servicerecord s JOIN volunteer v ON v.id = s.volunteer_id "
                         "WHERE v.person_id = :person",
        "attendance": "SELECT COUNT(*) FROM attendance WHERE person_id = :person",
        "issue": "SELECT COUNT(*) FROM issue WHERE reporter_id = :person",
        "rating": "SELECT COUNT(*) FROM rating r JOIN issue i ON i.id = r.issue_id WHERE i.reporter_id = :person",
    }
    text = ""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for table, sql in expected.items():
            count = connection.execute(sql, person=person_id).fetchone()[0]
            assert count > 0 or table == "rating"
            assert counts[table] == count == len(csv_rows(archive.read(f"{table}.csv"))) - 1, table
        text = "\n".join(archive.read(part).decode("utf-8-sig") for part in archive.namelist())
    assert counts["auditentry"] >= 1
    assert phone in text and name in text
    others = {p for (p,) in connection.execute(
        "SELECT phone FROM person WHERE id != :person AND phone IS NOT NULL", person=person_id)}
    assert not {national(p) for p in others} & set(FULL_MOBILE.findall(text))
    assert connection.execute(
        "SELECT table_name, record_id, action FROM auditentry ORDER BY id DESC LIMIT 1").fetchone() == \
        ("person", str(person_id), exports.EXPORT_ACTION)


def test_phone_for_masks_unless_the_role_and_grid_allow(demo_db):
    leader = Actor(name="x", role=Role.LEADER, grid_ids=frozenset({7}))
    assert phone_for(leader, "+8613800138000", 7) == "13800138000"
    assert phone_for(leader, "+8613800138000", 8) == mask_phone("+8613800138000") == "138****8000"
    assert phone_for(leader, "13800138000", None) == "138****8000"
    assert phone_for(REPRESENTATIVE, "+8613800138000", 7) == "138****8000"
    assert phone_for(ADMIN, "+8613800138000", None) == "13800138000"


def test_find_people_by_name_or_phone_ending(demo_db):
    url, connection = demo_db
    person_id, name, phone = connection.execute("SELECT id, name, phone FROM person WHERE phone IS NOT NULL "
                                                "ORDER BY id LIMIT 1").fetchone()
    with Session(get_engine(url)) as session:
        assert person_id in set(exports.find_people(session=session, search=phone[-6:])["id"])
        assert person_id in set(exports.find_people(session=session, search=name)["id"])
        assert exports.find_people(session=session, search="  ").empty
        assert session.execute(select(AuditEntry.id).where(AuditEntry.action == exports.EXPORT_ACTION)).first() is None


def test_the_public_gets_no_names_and_no_phones(demo_db):
    url, _ = demo_db
    public = Actor(name="public", role=Role.PUBLIC)
    name_headers = {translate("en", "volunteers.col_name"), translate("en", "volunteers.col_phone"),
                    translate("en", "issues.col_reporter")}
    for kind, fmt, table, data in all_exports(url, public, lang="en"):
        assert not name_headers & set(table.header), kind
        cells = cell_texts(data, fmt)
        assert not full_mobiles_in_file(data, fmt) and not any("****" in cell for cell in cells), kind


def test_the_scan_reads_cells_not_the_bytes_of_the_file_format():
    """A date-time is stored in the workbook's XML as a serial (46361.19084490741 for 2026-12-05
    04:34:49) whose digits after the point look like a mobile number: the raw XML trips a byte
    scan, the cells do not; a real number in a cell is found in both formats."""
    from datetime import datetime

    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["时间", datetime(2026, 12, 5, 4, 34, 49)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    dated = buffer.getvalue()
    with zipfile.ZipFile(io.BytesIO(dated)) as package:
        xml = "".join(package.read(name).decode("utf-8") for name in package.namelist())
    assert FULL_MOBILE.search(xml)  # what the old scan tripped on
    assert full_mobiles_in_file(dated, "xlsx") == []
    workbook.active.append(["电话", "138 0013 8000"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert full_mobiles_in_file(buffer.getvalue(), "xlsx") == ["13800138000"]
    assert full_mobiles_in_file("\ufeff电话,+8613800138000\r\n".encode(), "csv") == ["+8613800138000"]


def test_the_attendance_count_is_the_attendance_lists_length(demo_db):
    """The events page offers the attendance download when the count (from the events' named
    attendance the database keeps) says there are rows: it must be the list's own length, for the
    whole time, a period and a grid, also after a resident is deleted and restored."""
    from datetime import date

    from gongzhi.clock import now
    from gongzhi.models import Attendance

    url, _ = demo_db
    engine = get_engine(url)
    with read_session(engine) as session:
        grid = session.execute(select(Person.grid_id).where(Person.grid_id.is_not(None))).scalars().first()
        attendee = session.execute(select(Attendance.person_id)).scalars().first()
    choices = [{}, {"start": date(2000, 1, 1), "end": now().date()}, {"grid_id": grid}, {"start": now().date()}]

    def check() -> None:
        with read_session(engine) as session:
            for choice in choices:
                assert exports.attendance_count(session=session, **choice) == \
                    len(exports.attendance_list(session=session, **choice)), choice
            assert exports.attendance_count(session=session) > 0

    check()
    for deleted_at in (now(), None):
        with write_session(engine) as session:
            session.get(Person, attendee).deleted_at = deleted_at
        check()
