"""Downloads in a real Chromium, served by `streamlit run`: the file is made on the click (what
AppTest cannot do) and is the list as this role may read it."""

import csv
import io

import pytest

from gongzhi.db import get_engine, read_session
from gongzhi.i18n import translate
from gongzhi.queries.volunteers import volunteer_roster
from tests.browser.helpers import TIMEOUT_MS, open_from_menu, sign_in, wait_for_app
from tests.personal_data import cell_texts, full_mobiles

pytestmark = pytest.mark.browser


def download(page, label: str) -> bytes:
    wait_for_app(page)  # the button of the finished run, not one a rerun is about to replace
    with page.expect_download(timeout=TIMEOUT_MS) as started:
        page.get_by_role("button", name=label).click()
    return open(started.value.path(), "rb").read()


def test_a_representative_downloads_the_roster_with_phones_masked(app_server, page):
    sign_in(page.page, app_server.url, "representative")
    open_from_menu(page.page, translate("en", "nav.volunteers"))
    what = translate("en", "exports.kind_volunteers")
    data = download(page.page, translate("en", "exports.download_csv", what=what))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    with read_session(get_engine(app_server.database_url)) as session:
        roster = volunteer_roster(session=session)
    assert len(rows) - 1 == len(roster) > 0
    phone = rows[0].index(translate("en", "volunteers.col_phone"))
    assert all("****" in row[phone] for row in rows[1:] if row[phone])
    assert not full_mobiles(cell for row in rows for cell in row)
    workbook = download(page.page, translate("en", "exports.download_xlsx", what=what))
    cells = cell_texts(workbook, "xlsx")
    assert not full_mobiles(cells) and any("****" in cell for cell in cells)
    assert page.external_requests() == []
