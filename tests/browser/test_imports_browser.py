"""Importing a roster in Chromium: a GBK CSV goes through the real file uploader, the preview
shows its rows decoded correctly, and the import writes them."""

import pytest
from sqlalchemy import select

from gongzhi.db import get_engine, read_session
from gongzhi.domain import AreaLevel
from gongzhi.i18n import translate
from gongzhi.models import Area, Person
from tests.browser.helpers import TIMEOUT_MS, open_from_menu, rerun_by, save_screenshot, sign_in
from tests.import_files import csv_bytes

pytestmark = pytest.mark.browser


def test_a_gbk_roster_is_previewed_and_imported(app_server, page, tmp_path):
    engine = get_engine(app_server.database_url)
    with read_session(engine) as session:
        grid = session.execute(select(Area).where(Area.level == AreaLevel.GRID).order_by(Area.code)).scalars().first()
    roster = tmp_path / "志愿者名册.csv"
    roster.write_bytes(csv_bytes(["姓名", "手机号码", "所属网格", "技能"],
                                 [["测试导入甲", "１９９ ００００-００１１", grid.code, "急救、维修"],
                                  ["测试导入乙", "+86 199 0000 0012", grid.name, "助老"]], encoding="gbk"))
    sign_in(page.page, app_server.url, "committee")
    open_from_menu(page.page, translate("en", "imports.title"))
    with rerun_by(page.page):
        page.page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(roster))
    summary = translate("en", "imports.summary", rows=2, new=2, in_database=0, in_file=0, refused=0)
    page.page.get_by_text(summary).wait_for(timeout=TIMEOUT_MS)
    page.page.get_by_text(translate("en", "imports.detected", file_type="CSV", encoding="gb18030", rows=2)).wait_for()
    save_screenshot(page.page, "import_preview")
    with rerun_by(page.page):
        page.page.get_by_role("button", name=translate("en", "imports.import_button"), exact=True).click()
    page.page.get_by_text(translate("en", "imports.done", inserted=2, updated=0, skipped=0)).wait_for(timeout=TIMEOUT_MS)
    with read_session(engine) as session:
        people = session.execute(select(Person.name, Person.phone, Person.grid_id)
                                 .where(Person.name.like("测试导入%")).order_by(Person.name)).all()
    assert people == [("测试导入乙", "+8619900000012", grid.id), ("测试导入甲", "+8619900000011", grid.id)]
