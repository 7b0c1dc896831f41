"""The imports page through AppTest: upload -> detected encoding -> mapping -> preview with every
problem -> duplicates -> import -> result, as a committee member and as a grid leader."""

from sqlalchemy import select
from sqlmodel import Session

from gongzhi.db import get_engine
from gongzhi.models import Person, Volunteer
from tests.import_files import ROSTER, ROSTER_HEADER, csv_bytes, make_community, with_extra_part, xlsx_bytes

PAGE = "views/imports.py"


def _upload(app, name: str, data: bytes, kind: str | None = None):
    if kind is not None:
        app.selectbox(key="import_kind").set_value(kind)
        app.run()
    app.file_uploader(key="import_file_0").set_value((name, data, "text/csv"))
    app.run()
    assert not app.exception, app.exception
    return app


def _volunteers(url):
    with Session(get_engine(url)) as session:
        return session.execute(select(Person.name, Person.phone, Volunteer.note).join(Volunteer).order_by(Person.id)).all()


def test_preview_shows_every_problem_and_offers_no_import(open_page, db_url):
    make_community(db_url)
    rows = [*ROSTER, ["赵六", "12345", "G01", "", "", ""]]
    app = _upload(open_page(db_url, PAGE), "名册.csv", csv_bytes(ROSTER_HEADER, rows, encoding="gbk"))
    assert "File type: CSV; encoding: gb18030; data rows: 4" in [caption.value for caption in app.caption]
    assert "4 rows: 3 new, 0 already in the database, 0 repeated in the file, 1 with problems" in \
        [markdown.value for markdown in app.markdown]
    problems = app.dataframe[0].value
    assert problems.values.tolist() == [[5, "手机号码", "“12345” is not a valid phone number"]]
    preview = app.dataframe[-1].value
    assert preview["Row"].tolist() == [2, 3, 4, 5]
    assert preview["Status"].tolist() == ["new", "new", "new", "problem"]
    assert preview["姓名"].tolist() == ["张伟", "李娜", "王芳", "赵六"]  # decoded from GBK correctly
    assert not [button for button in app.button if button.label == "Import"]
    assert _volunteers(db_url) == []


def test_mapping_an_unknown_header_then_importing_with_update(open_page, db_url):
    make_community(db_url)
    app = open_page(db_url, PAGE, lang="zh-CN")
    first = csv_bytes(["居民称呼", "手机号", "网格", "备注"], [["张伟", "13800138000", "G01", "旧"]], encoding="utf-8")
    _upload(app, "a.csv", first)
    assert app.dataframe[0].value.values.tolist()[0][2] == "缺少必需的列：姓名（可在“列的对应”中指定）"
    mapping = [box for box in app.selectbox if box.label == "居民称呼"][0]
    mapping.set_value("name")
    app.run()
    assert "1 行" in " ".join(markdown.value for markdown in app.markdown) and len(app.dataframe) == 1  # no problems left
    [button] = [button for button in app.button if button.label == "导入"]
    button.click()
    app.run()
    assert not app.exception, app.exception
    assert "已导入：新增 1，更新 0，跳过 0。" in [success.value for success in app.success]
    assert _volunteers(db_url) == [("张伟", "+8613800138000", "旧")]

    # The next file: the mapping is remembered, the phone is a duplicate to update.
    second = csv_bytes(["居民称呼", "手机号", "网格", "备注"], [["张伟", "138-0013-8000", "G01", "新"]], encoding="utf-8")
    app.file_uploader(key="import_file_1").set_value(("b.csv", second, "text/csv"))
    app.run()
    assert "共 1 行：新增 0，与库中重复 1，文件内重复 0，有问题 0" in [markdown.value for markdown in app.markdown]
    [choice] = [radio for radio in app.radio if radio.label == "重复记录如何处理"]
    choice.set_value("update")
    app.run()
    [button] = [button for button in app.button if button.label == "导入"]
    button.click()
    app.run()
    assert "已导入：新增 0，更新 1，跳过 0。" in [success.value for success in app.success]
    assert _volunteers(db_url) == [("张伟", "+8613800138000", "新")]


def test_a_grid_leader_is_held_to_their_grid(open_page, db_url):
    make_community(db_url)  # the test leader leads the first grid by code: G01
    rows = [["张伟", "13800138000", "G01", "", "", ""], ["李娜", "13900139000", "G02", "", "", ""]]
    app = _upload(open_page(db_url, PAGE, role="leader"), "a.xlsx", xlsx_bytes(ROSTER_HEADER, rows))
    assert app.dataframe[0].value.values.tolist() == [[3, "所属网格", "“G02” is not one of your grids"]]


def test_a_macro_workbook_is_refused_with_a_message(open_page, db_url):
    make_community(db_url)
    data = with_extra_part(xlsx_bytes(ROSTER_HEADER, ROSTER), "xl/vbaProject.bin", b"macro")
    app = _upload(open_page(db_url, PAGE), "名册.xlsx", data)
    assert any("macros" in error.value for error in app.error)
    assert not [button for button in app.button if button.label == "Import"]


def test_the_menu_offers_the_page_to_those_who_may_write_only():
    from components.navigation import pages_for
    from gongzhi.permissions import Actor, Role

    offered = {role: "imports" in {entry.url_path for entry in pages_for(Actor("x", role))} for role in Role}
    assert offered == {Role.ADMIN: True, Role.COMMITTEE: True, Role.LEADER: True, Role.REPRESENTATIVE: False,
                       Role.PUBLIC: False}


def test_an_encoding_that_cannot_be_told_is_asked_for(open_page, db_url):
    make_community(db_url)
    data = "Name,Phone,Grid\r\nJosé Müller,13800138000,G01\r\nZoë Brontë,13900139000,G02\r\n".encode("cp1252")
    app = _upload(open_page(db_url, PAGE), "roster.csv", data, kind="people")
    assert any("choose the encoding" in error.value for error in app.error)
    app.selectbox(key="import_encoding").set_value("cp1252")
    app.run()
    assert "File type: CSV; encoding: cp1252; data rows: 2" in [caption.value for caption in app.caption]
    assert app.dataframe[-1].value["Name"].tolist() == ["José Müller", "Zoë Brontë"]
