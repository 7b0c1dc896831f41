"""Download buttons under the lists and the admin page for backups and data: the files hold the
rows the page shows (its current filters), with personal data masked for the role; the admin
page makes a backup and is refused to everyone else.

Streamlit makes a download's file only when the browser asks for it, which AppTest cannot do, so
the test records each button's file maker as the page passes it and calls it afterwards."""

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest
import streamlit as st
from sqlmodel import Session
from streamlit.delta_generator import DeltaGenerator

from gongzhi.db import get_engine
from gongzhi.i18n import translate
from gongzhi.queries.volunteers import volunteer_roster
from tests.conftest import Sql
from tests.markdown_payloads import text_form
from tests.personal_data import full_mobiles


@pytest.fixture
def downloads(monkeypatch) -> dict:
    """{button key: (file name, maker)} of every download button the pages render."""
    recorded = {}
    original, main_area = DeltaGenerator.download_button, st.download_button

    def recording(self, label, data, file_name=None, *args, **kwargs):
        recorded[kwargs.get("key")] = (file_name, data)
        return original(self, label, data, file_name, *args, **kwargs)

    def recording_main(label, data, file_name=None, *args, **kwargs):
        recorded[kwargs.get("key")] = (file_name, data)
        return main_area(label, data, file_name, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", recording)
    monkeypatch.setattr(st, "download_button", recording_main)  # st.download_button is bound at import
    return recorded


def csv_of(maker) -> list[list[str]]:
    data = maker()
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_the_issues_download_is_the_list_shown(open_page, demo_url, downloads):
    app = open_page(demo_url, "views/issues.py", role="representative", lang="en")
    assert not app.exception
    shown = app.dataframe[0].value
    name, maker = downloads["download_issues_csv"]
    assert name.startswith("gongzhi-issues-") and name.endswith(".csv")
    rows = csv_of(maker)
    id_column = translate("en", "issues.col_id")
    assert [int(row[0]) for row in rows[1:]] == list(shown[id_column])
    assert translate("en", "issues.col_reporter") not in rows[0]
    assert downloads["download_issues_xlsx"][1]()[:2] == b"PK"  # a ZIP package: a workbook


@pytest.mark.parametrize("role, full_numbers", [("representative", False), ("committee", True)])
def test_the_roster_download_masks_phones_as_the_role_requires(open_page, demo_url, downloads, role, full_numbers):
    app = open_page(demo_url, "views/volunteers.py", role=role, lang="en")
    assert not app.exception
    roster = next(frame.value for frame in app.dataframe
                  if translate("en", "volunteers.col_phone") in frame.value.columns)
    rows = csv_of(downloads["download_volunteers_csv"][1])
    # The table shows the roster a page at a time; the download is the whole roster, in its order.
    with Session(get_engine(demo_url)) as session:
        everyone = volunteer_roster(session=session)
    assert len(rows) - 1 == len(everyone) > len(roster) == 50
    assert [row[0] for row in rows[1:]] == list(everyone["name"])
    assert [row[0] for row in rows[1:51]] == list(roster[translate("en", "volunteers.col_name")])
    assert bool(full_mobiles(cell for row in rows for cell in row)) is full_numbers
    assert downloads["download_volunteers_xlsx"][1]()[:2] == b"PK"


def test_the_events_and_meetings_pages_offer_their_lists(open_page, demo_url, downloads):
    for page, keys in (("views/events.py", ("events", "attendance")), ("views/meetings.py", ("meetings", "decisions"))):
        app = open_page(demo_url, page, role="representative", lang="en")
        assert not app.exception
        for key in keys:
            rows = csv_of(downloads[f"download_{key}_csv"][1])
            assert len(rows) > 1, key
            assert not full_mobiles(cell for row in rows for cell in row), key


@pytest.mark.parametrize("role", ["committee", "leader", "representative", "public"])
def test_the_backups_page_is_not_in_the_menu_of_other_roles(open_page, demo_url, role):
    app = open_page(demo_url, None, role=role)
    with pytest.raises(ValueError, match="Known pages"):
        app.switch_page("views/backups.py")


@pytest.mark.sqlite_only("the backup button copies the SQLite file; PostgreSQL is backed up with pg_dump")
def test_an_admin_backs_up_from_the_page(open_page, demo_url, downloads, tmp_path, monkeypatch):
    monkeypatch.setenv("GONGZHI_BACKUP_DIR", str(tmp_path / "backups"))
    app = open_page(demo_url, "views/backups.py", role="admin", lang="en")
    assert not app.exception
    app.button(key="backup_now").click().run()
    assert not app.exception
    files = list(Path(tmp_path / "backups").glob("gongzhi-*.db"))
    assert len(files) == 1
    assert str(files[0]) in text_form(app.success[0].value)  # as the reader sees it (Markdown escapes resolved)
    assert {"backup_download", "full_archive", "open311_requests_json", "open311_services_xml"} <= set(downloads)
    assert downloads["backup_download"][1]() == files[0].read_bytes()


def test_an_admin_downloads_the_full_archive_from_the_page(open_page, demo_url, downloads):
    app = open_page(demo_url, "views/backups.py", role="admin", lang="en")
    assert not app.exception
    sql = Sql(demo_url)
    if sql.engine.dialect.name != "sqlite":  # no file to copy: the page points to pg_dump instead
        assert not [button for button in app.button if button.key == "backup_now"]
        assert translate("en", "exports.backup_postgres") in [info.value for info in app.info]
    with zipfile.ZipFile(io.BytesIO(downloads["full_archive"][1]())) as archive:
        tables = json.loads(archive.read("manifest.json"))["tables"]
    assert tables["issue"] == sql.scalar("SELECT COUNT(*) FROM issue")
    assert sql.execute("SELECT actor_role, action FROM auditentry ORDER BY id DESC LIMIT 1").fetchone() \
        == ("admin", "export")


def test_an_admin_exports_one_persons_data_from_the_page(open_page, demo_url, downloads):
    sql = Sql(demo_url)
    person_id, name, phone = sql.execute(
        "SELECT id, name, phone FROM person WHERE phone IS NOT NULL ORDER BY id LIMIT 1").fetchone()
    app = open_page(demo_url, "views/backups.py", role="admin", lang="en")
    app.text_input(key="person_export_search").input(phone[-8:]).run()
    assert not app.exception
    app.selectbox(key="person_export_choice").select(person_id).run()
    file_name, maker = downloads["person_archive"]
    assert file_name.startswith(f"gongzhi-person-{person_id}-")
    with zipfile.ZipFile(io.BytesIO(maker())) as archive:
        person = archive.read("person.csv").decode("utf-8-sig")
    assert name in person and phone in person
    assert sql.execute("SELECT table_name, record_id, action FROM auditentry ORDER BY id DESC LIMIT 1"
                       ).fetchone() == ("person", str(person_id), "export")


def test_an_admin_imports_open311_requests_from_the_page(open_page, demo_url):
    sql = Sql(demo_url)
    grid = sql.execute("SELECT name FROM area WHERE level = 'grid' ORDER BY code LIMIT 1").fetchone()[0]
    before = sql.execute("SELECT COUNT(*) FROM issue").fetchone()[0]
    good = {"service_code": "noise", "description": "广场舞音响太吵", "address": grid}
    bad = {"service_code": "nope", "description": "x", "address": grid}
    app = open_page(demo_url, "views/backups.py", role="admin", lang="en")
    app.file_uploader(key="open311_upload").set_value(
        ("requests.json", json.dumps([good, bad]).encode(), "application/json")).run()
    app.button(key="open311_import").click().run()
    assert not app.exception
    assert "nothing was written" in app.error[0].value
    problems = app.dataframe[-1].value
    assert list(problems[translate("en", "exports.col_row")]) == [2]
    assert sql.execute("SELECT COUNT(*) FROM issue").fetchone()[0] == before
    app.file_uploader(key="open311_upload").set_value(
        ("requests.json", json.dumps([good]).encode(), "application/json")).run()
    app.button(key="open311_import").click().run()
    assert not app.exception and not app.error
    assert app.success[-1].value == translate("en", "exports.open311_imported", created=1, skipped=0)
    assert sql.execute("SELECT COUNT(*) FROM issue").fetchone()[0] == before + 1
