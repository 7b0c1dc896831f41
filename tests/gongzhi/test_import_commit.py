"""Imports from the plan to the database: row problems reported as (row, column, why) in both
languages with nothing written, duplicates skipped or updated, grid leaders held to their grids,
every insert audited, mappings remembered, and export -> import round trips for every kind."""

import json

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from gongzhi.db import current_revision, get_engine, read_session, write_session
from gongzhi.importing import (
    KINDS,
    ImportRefused,
    export_file,
    match_headers,
    plan_import,
    read_spreadsheet,
    remembered_mappings,
    run_import,
)
from gongzhi.models import AppSetting, Area, Attendance, AuditEntry, Event, Issue, Person, TimelineEntry, Volunteer
from gongzhi.permissions import Actor, Role
from tests.import_files import ROSTER, ROSTER_HEADER, csv_bytes, make_community, xlsx_bytes

SECRETARY = Actor(name="王秘书", role=Role.COMMITTEE)


@pytest.fixture
def community(db_url):
    return make_community(db_url)


def _import(url, kind, data, *, name="f.csv", actor=SECRETARY, mapping=None, **kwargs):
    sheet = read_spreadsheet(data, name)
    engine = get_engine(url)
    with read_session(engine) as session:
        chosen = match_headers(kind, sheet.headers, remembered_mappings(session, kind))
    chosen.update(mapping or {})
    with write_session(engine, actor=actor) as session:
        return run_import(session, kind=kind, sheet=sheet, mapping=chosen, actor=actor, **kwargs)


def _plan(url, kind, data, *, name="f.csv", actor=SECRETARY):
    sheet = read_spreadsheet(data, name)
    with read_session(get_engine(url)) as session:
        return plan_import(session, kind=kind, sheet=sheet, mapping=match_headers(kind, sheet.headers), actor=actor)


def _count(url, model) -> int:
    with Session(get_engine(url)) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_gbk_roster_imports_with_phones_normalised_grids_resolved_and_every_row_audited(db_url, community):
    with read_session(get_engine(db_url)) as session:
        revision = current_revision(session)
    result = _import(db_url, "volunteers", csv_bytes(ROSTER_HEADER, ROSTER, encoding="gbk"))
    assert (result.inserted, result.updated, result.skipped) == (3, 0, 0)
    with Session(get_engine(db_url)) as session:
        rows = session.execute(select(Person.name, Person.phone, Person.grid_id, Volunteer.grid_id, Volunteer.skills,
                                      Volunteer.status, Volunteer.note)
                               .join(Volunteer, Volunteer.person_id == Person.id).order_by(Person.id)).all()
        assert rows == [
            ("张伟", "+8613800138000", community["G01"], community["G01"], "first_aid,repairs", "active", "楼长"),
            ("李娜", "+8613900139000", community["G02"], community["G02"], "elderly_care", "active", ""),
            ("王芳", "+8613700137000", community["G01"], community["G01"], "first_aid,tutoring", "paused", ""),
        ]
        audit = session.execute(select(AuditEntry.table_name, AuditEntry.actor, AuditEntry.action, AuditEntry.after)
                                .where(AuditEntry.actor == "王秘书")).all()
        assert sorted((table, action) for table, _, action, _ in audit) == \
            [("person", "insert")] * 3 + [("volunteer", "insert")] * 3
        assert {json.loads(after)["name"] for table, _, _, after in audit if table == "person"} == {"张伟", "李娜", "王芳"}
        assert current_revision(session) == revision + 1  # one write transaction


def test_every_problem_is_reported_by_row_and_column_in_both_languages_and_nothing_is_written(db_url, community):
    rows = [
        ["张伟", "12345", "一网格", "急救", "", ""],
        ["李娜", "13900139000", "九网格", "唱歌", "", ""],
        ["=cmd|' /C calc'!A0", "13700137000", "G01", "", "", ""],
        ["赵六", "13600136000", "G01", "", "", "身份证 110101199003074512"],
        ["好人", "13500135000", "G01", "", "", ""],
    ]
    data = csv_bytes(ROSTER_HEADER, rows, encoding="utf-8") + "多,出,来,的,一,行,啊\r\n".encode()
    plan = _plan(db_url, "volunteers", data)
    found = [(problem.row, problem.column, problem.key) for problem in plan.problems]
    assert found == [
        (2, "手机号码", "imports.reason_phone"),
        (3, "所属网格", "imports.reason_unknown_grid"),
        (3, "技能", "imports.reason_unknown_choice"),
        (4, "姓名", "imports.reason_formula"),
        (5, "备注", "errors.national_id"),
        (7, "", "imports.problem_ragged"),
    ]
    phone_problem = plan.problems[0]
    assert phone_problem.reason("en") == "“12345” is not a valid phone number"
    assert phone_problem.reason("zh-CN") == "“12345”不是有效的电话号码"
    assert plan.counts()["refused"] == 5 and plan.counts()["new"] == 1
    with pytest.raises(ImportRefused):
        _import(db_url, "volunteers", data)
    assert _count(db_url, Person) == 0 and _count(db_url, Volunteer) == 0
    with Session(get_engine(db_url)) as session:
        assert session.execute(select(AuditEntry).where(AuditEntry.table_name == "person")).first() is None


def test_missing_required_columns_refuse_the_file(db_url, community):
    plan = _plan(db_url, "volunteers", csv_bytes(["姓名", "技能"], [["张伟", "急救"]], encoding="utf-8"))
    assert [(p.row, p.key, p.params) for p in plan.problems] == [(0, "imports.problem_missing_columns", {"fields": ("grid",)})]
    assert plan.problems[0].reason("en") == "Required columns missing: Grid (choose them in the column mapping)"


def test_duplicates_in_the_file_and_in_the_database_are_flagged_then_skipped_or_updated(db_url, community):
    _import(db_url, "volunteers", csv_bytes(ROSTER_HEADER, ROSTER[:1], encoding="utf-8"))
    again = [
        ["张伟（新）", "13800138000", "G02", "维修", "", "更新了"],  # the same phone as in the database
        ["陈静", "13300133000", "G01", "", "", "第一次"],
        ["陈静", "133 0013 3000", "G01", "", "", "第二次"],  # repeats the row above
    ]
    data = csv_bytes(ROSTER_HEADER, again, encoding="utf-8")
    plan = _plan(db_url, "volunteers", data)
    assert [(row.number, row.existing_id is not None, row.duplicate_of) for row in plan.rows] == \
        [(2, True, None), (3, False, None), (4, False, 3)]
    assert plan.counts() == {"rows": 3, "refused": 0, "new": 1, "in_database": 1, "in_file": 1}

    skipped = _import(db_url, "volunteers", data, on_duplicate="skip")
    assert (skipped.inserted, skipped.updated, skipped.skipped) == (1, 0, 2)
    with Session(get_engine(db_url)) as session:
        names = dict(session.execute(select(Person.phone, Person.name)).all())
        notes = dict(session.execute(select(Person.name, Volunteer.note).join(Volunteer)).all())
    assert names["+8613800138000"] == "张伟" and notes["陈静"] == "第一次"

    updated = _import(db_url, "volunteers", data, on_duplicate="update")
    assert (updated.inserted, updated.updated) == (0, 2)
    with Session(get_engine(db_url)) as session:
        volunteer = session.execute(select(Volunteer, Person).join(Person).where(Person.phone == "+8613800138000")).one()
        assert (volunteer[1].name, volunteer[0].grid_id, volunteer[0].skills, volunteer[0].note) == \
            ("张伟（新）", community["G02"], "repairs", "更新了")
        assert volunteer[0].version == 2  # optimistic locking sees the change
        assert session.execute(select(Volunteer.note).join(Person).where(Person.name == "陈静")).scalar() == "第二次"
        updates = session.execute(select(AuditEntry).where(AuditEntry.action == "update",
                                                           AuditEntry.table_name == "volunteer")).scalars().all()
        assert len(updates) == 2
    assert _count(db_url, Volunteer) == 2


def test_a_grid_leader_imports_only_into_their_own_grids(db_url, community):
    leader = Actor(name="网格长", role=Role.LEADER, grid_ids=frozenset({community["G01"]}))
    rows = [["张伟", "13800138000", "G01", "", "", ""], ["李娜", "13900139000", "G02", "", "", ""]]
    plan = _plan(db_url, "volunteers", csv_bytes(ROSTER_HEADER, rows, encoding="utf-8"), actor=leader)
    assert [(p.row, p.column, p.key) for p in plan.problems] == [(3, "所属网格", "imports.reason_not_your_grid")]
    _import(db_url, "volunteers", csv_bytes(ROSTER_HEADER, rows[:1], encoding="utf-8"), actor=leader)
    assert _count(db_url, Volunteer) == 1
    representative = Actor(name="代表", role=Role.REPRESENTATIVE)
    plan = _plan(db_url, "volunteers", csv_bytes(ROSTER_HEADER, rows[:1], encoding="utf-8"), actor=representative)
    assert [p.key for p in plan.problems] == ["imports.problem_not_allowed"]


def test_a_national_id_column_is_never_read_and_its_numbers_are_stored_nowhere(db_url, community):
    header = ["姓名", "身份证号码", "手机号", "网格"]
    data = xlsx_bytes(header, [["张伟", "110101199003074512", "13800138000", "G01"]])
    _import(db_url, "people", data, name="people.xlsx")
    with Session(get_engine(db_url)) as session:
        assert session.execute(select(Person.name, Person.phone)).all() == [("张伟", "+8613800138000")]
        trail = " ".join(after or "" for after in session.execute(select(AuditEntry.after)).scalars())
    assert "110101199003074512" not in trail


def test_an_unknown_header_mapped_by_the_user_is_remembered_for_the_next_file(db_url, community):
    header = ["志愿者名字", "联系手机", "网格"]
    data = csv_bytes(header, [["张伟", "13800138000", "G01"]], encoding="utf-8")
    sheet = read_spreadsheet(data, "a.csv")
    assert match_headers("volunteers", sheet.headers) == {"志愿者名字": None, "联系手机": None, "网格": "grid"}
    _import(db_url, "volunteers", data, mapping={"志愿者名字": "name", "联系手机": "phone"})
    with read_session(get_engine(db_url)) as session:
        remembered = remembered_mappings(session, "volunteers")
        assert all(len(key) <= 40 for key in session.execute(select(AppSetting.key)).scalars())
    assert match_headers("volunteers", [" 志愿者名字 ", "联系手机", "网格"], remembered) == \
        {" 志愿者名字 ": "name", "联系手机": "phone", "网格": "grid"}


def test_progress_is_reported_as_rows_are_written(db_url, community):
    rows = [[f"居民{i}", f"138{i:08d}", "G01", "", "", ""] for i in range(2500)]
    seen = []
    _import(db_url, "volunteers", csv_bytes(ROSTER_HEADER, rows, encoding="utf-8"),
            progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1000, 2500), (2000, 2500), (2500, 2500)]
    assert _count(db_url, Volunteer) == 2500


def test_issues_import_in_reported_state_with_their_created_line_and_sla_due_date(db_url, community):
    header = ["标题", "类别", "所属网格", "描述", "上报时间"]
    data = csv_bytes(header, [["3栋电动车楼道充电", "电动车充电安全", "G01", "夜里有人拉线", "2026/5/10 14:30"]], encoding="utf-8")
    _import(db_url, "issues", data)
    with Session(get_engine(db_url)) as session:
        issue = session.execute(select(Issue)).scalar_one()
        assert (issue.state, issue.category, str(issue.reported_at), str(issue.due_date)) == \
            ("reported", "ev_charging", "2026-05-10 14:30:00", "2026-05-17")
        assert (issue.lat, issue.lon) == (22.5, 113.9)  # the grid's centre, as a reported issue gets
        line = session.execute(select(TimelineEntry)).scalar_one()
        assert (line.issue_id, line.kind, line.to_state, line.actor) == (issue.id, "created", "reported", "王秘书")


def test_population_updates_grid_figures(db_url, community):
    data = csv_bytes(["网格", "人口", "户数"], [["一网格", "1,234", "456"], ["G02", "800", "900"]], encoding="utf-8")
    plan = _plan(db_url, "population", data)
    assert [(p.row, p.key) for p in plan.problems] == [(3, "imports.reason_households_over_population")]
    _import(db_url, "population", csv_bytes(["网格", "人口", "户数"], [["一网格", "1,234", "456"]], encoding="utf-8"))
    with Session(get_engine(db_url)) as session:
        assert session.get(Area, community["G01"]).population == 1234


def test_attendance_finds_events_and_people_and_creates_new_people_once(db_url, community):
    header = ["活动名称", "活动时间", "姓名", "手机号"]
    rows = [["重阳节敬老活动", "2025-10-29", "张伟", "13800138000"], ["重阳节敬老活动", "", "李娜", ""],
            ["重阳节敬老活动", "", "张伟", "138 0013 8000"], ["没有的活动", "", "王五", ""]]
    plan = _plan(db_url, "attendance", csv_bytes(header, rows, encoding="utf-8"))
    assert [(p.row, p.column, p.key) for p in plan.problems] == [(5, "活动名称", "imports.reason_unknown_event")]
    result = _import(db_url, "attendance", csv_bytes(header, rows[:3], encoding="utf-8"))
    assert (result.inserted, result.skipped) == (2, 1)
    assert _count(db_url, Attendance) == 2 and _count(db_url, Person) == 2


ROUND_TRIP_SOURCES = {
    "people": (["姓名", "手机号", "网格", "出生年份"], [["张伟", "13800138000", "G01", "1956"], ["李娜", "", "", ""]]),
    "volunteers": (ROSTER_HEADER, ROSTER),
    "population": (["网格", "人口", "户数"], [["G01", "1500", "600"], ["G02", "900", "320"]]),
    "events": (["活动名称", "类型", "网格", "开始时间", "结束时间", "地点", "主办单位", "名额", "匿名人数", "活动内容"],
               [["健康讲座", "健康义诊", "G02", "2025-11-02 09:30", "2025-11-02 11:00", "活动室", "阳光志愿服务队", "40", "12",
                 "血压测量"], ["广场舞比赛", "culture_sports", "", "2025-11-05 19:00", "2025-11-05 21:00", "", "", "", "", ""]]),
    "attendance": (["活动", "活动时间", "姓名", "手机号"], [["重阳节敬老活动", "2025-10-29 09:00", "张伟", "13800138000"]]),
    "issues": (["标题", "类别", "网格", "描述", "上报时间", "纬度", "经度"],
               [["路灯不亮", "repairs", "G02", "5栋门口", "2026-04-01 08:15", "22.51", "113.91"],
                ["噪音扰民", "噪音扰民", "G01", "", "2026-04-02 22:00", "", ""]]),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_gives_the_same_data(new_database, empty_template, kind, fmt):
    first, second = new_database(empty_template), new_database(empty_template)
    for url in (first, second):
        make_community(url)
    header, rows = ROUND_TRIP_SOURCES[kind]
    _import(first, kind, csv_bytes(header, rows, encoding="utf-8"))
    with read_session(get_engine(first)) as session:
        exported = export_file(session, kind=kind, fmt=fmt, actor=SECRETARY, lang="zh-CN")
    _import(second, kind, exported, name=f"{kind}.{fmt}")
    with read_session(get_engine(second)) as session:
        again = export_file(session, kind=kind, fmt=fmt, actor=SECRETARY, lang="zh-CN")
    as_rows = lambda data: read_spreadsheet(data, f"x.{fmt}").rows  # noqa: E731 - xlsx bytes carry timestamps
    assert as_rows(again) == as_rows(exported)
    already_there = {"population": 2 - len(rows), "events": 1}.get(kind, 0)  # the community's grids and event
    assert len(as_rows(exported)) == len(rows) + already_there


def test_an_export_neutralises_formula_like_text_already_in_the_database(db_url, community):
    with write_session(get_engine(db_url)) as session:
        session.add(Person(name="=HYPERLINK(1)", grid_id=community["G01"]))
    with read_session(get_engine(db_url)) as session:
        data = export_file(session, kind="people", fmt="csv", actor=SECRETARY, lang="en")
    assert "'=HYPERLINK(1)" in data.decode("utf-8-sig")


def test_exports_mask_phones_for_roles_without_personal_data_rights(db_url, community):
    _import(db_url, "volunteers", csv_bytes(ROSTER_HEADER, ROSTER[:1], encoding="utf-8"))
    with read_session(get_engine(db_url)) as session:
        masked = export_file(session, kind="volunteers", fmt="csv", actor=Actor("代表", Role.REPRESENTATIVE), lang="en")
        plain = export_file(session, kind="volunteers", fmt="csv", actor=SECRETARY, lang="en")
    assert "138****8000" in masked.decode("utf-8-sig") and "13800138000" not in masked.decode("utf-8-sig")
    assert "13800138000" in plain.decode("utf-8-sig")


def test_events_import_checks_times_kind_and_host(db_url, community):
    header = ["活动名称", "类型", "开始时间", "结束时间", "主办单位"]
    rows = [["读书会", "读书", "2025-11-01 10:00", "2025-11-01 09:00", "不存在的组织"]]
    plan = _plan(db_url, "events", csv_bytes(header, rows, encoding="utf-8"))
    assert [(p.column, p.key) for p in plan.problems] == [
        ("类型", "imports.reason_unknown_choice"), ("主办单位", "imports.reason_unknown_organisation"),
        ("结束时间", "imports.reason_end_before_start")]
    assert _count(db_url, Event) == 1


def test_formula_cells_of_an_xlsx_are_refused_by_row_and_column(db_url, community):
    rows = [["张伟", "13800138000", "G01", "", "", "=HYPERLINK(\"http://evil.example\",\"点我\")"],
            ["李娜", "13900139000", "G01", "", "", "@SUM(1+1)"]]
    header = [*ROSTER_HEADER, "年龄"]  # a computed column the import does not read
    rows = [[*row, "=YEAR(TODAY())-1956"] for row in rows] + [["王芳", "13700137000", "G01", "", "", "", "=1+1"]]
    plan = _plan(db_url, "volunteers", xlsx_bytes(header, rows), name="a.xlsx")
    assert [(p.row, p.column, p.key) for p in plan.problems] == [
        (2, "备注", "imports.reason_formula"), (3, "备注", "imports.reason_formula")]
    assert [row.number for row in plan.rows] == [4]
    assert plan.problems[0].reason("en") == "starts like a spreadsheet formula (=, +, -, @): not imported"


def test_a_person_whose_volunteer_record_was_deleted_is_not_registered_twice(db_url, community):
    from gongzhi.clock import now

    _import(db_url, "volunteers", csv_bytes(ROSTER_HEADER, ROSTER[:1], encoding="utf-8"))
    with write_session(get_engine(db_url)) as session:
        session.execute(select(Volunteer)).scalar_one().deleted_at = now()
    plan = _plan(db_url, "volunteers", csv_bytes(ROSTER_HEADER, ROSTER[:1], encoding="utf-8"))
    assert [(p.row, p.column, p.key) for p in plan.problems] == [(2, "姓名", "imports.reason_volunteer_deleted")]


def test_a_grid_leader_may_skip_but_not_update_a_record_of_another_grid(db_url, community):
    _import(db_url, "volunteers", csv_bytes(ROSTER_HEADER, [["李娜", "13900139000", "G02", "", "", "原来的"]],
                                            encoding="utf-8"))
    leader = Actor(name="网格长", role=Role.LEADER, grid_ids=frozenset({community["G01"]}))
    moved = csv_bytes(ROSTER_HEADER, [["李娜", "13900139000", "G01", "", "", "搬来了"]], encoding="utf-8")
    with pytest.raises(ImportRefused) as refused:
        _import(db_url, "volunteers", moved, actor=leader, on_duplicate="update")
    assert [(p.row, p.column, p.key) for p in refused.value.plan.problems] == \
        [(2, "所属网格", "imports.reason_existing_not_your_grid")]
    assert _import(db_url, "volunteers", moved, actor=leader, on_duplicate="skip").skipped == 1
    with Session(get_engine(db_url)) as session:
        assert session.execute(select(Volunteer.note)).scalar_one() == "原来的"


def test_a_grid_leader_exports_their_own_grids_only(db_url, community):
    _import(db_url, "volunteers", csv_bytes(ROSTER_HEADER, ROSTER, encoding="utf-8"))
    leader = Actor(name="网格长", role=Role.LEADER, grid_ids=frozenset({community["G02"]}))
    with read_session(get_engine(db_url)) as session:
        data = export_file(session, kind="volunteers", fmt="csv", actor=leader, lang="zh-CN")
        population = export_file(session, kind="population", fmt="csv", actor=leader, lang="zh-CN")
    assert [cells[0] for _, cells in read_spreadsheet(data, "v.csv").rows] == ["李娜"]
    assert read_spreadsheet(population, "p.csv").rows == [(2, ["G02", "100", "40"])]
