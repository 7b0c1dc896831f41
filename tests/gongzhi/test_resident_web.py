"""The residents' pages without a server: switched off by the setting, every user text escaped,
Chinese unless asked for English."""

import asyncio
import html as markup
from datetime import datetime

from starlette.requests import Request

from gongzhi.i18n import translate_plain
from gongzhi.queries.residents import GridChoice, Step, Tracking
from gongzhi.resident_web import report, report_page, track, track_code, tracking_page


def get(path: str, path_params: dict, query: str = "") -> Request:
    return Request({"type": "http", "method": "GET", "path": path, "query_string": query.encode(), "headers": [],
                    "path_params": path_params, "server": ("127.0.0.1", 8501), "scheme": "http", "root_path": ""})


def test_the_setting_switches_every_resident_page_off(monkeypatch):
    monkeypatch.setenv("GONGZHI_RESIDENT_REPORTS", "0")
    for handler, request in ((report, get("/report/3", {"grid_id": "3"})), (track, get("/track/x", {"token": "x"})),
                             (track_code, get("/track", {}, "code=ABCD-2345&lang=en"))):
        response = asyncio.run(handler(request))
        assert response.status_code == 404
        lang = "en" if b"lang=en" in request.scope["query_string"] else "zh-CN"
        assert translate_plain(lang, "residents.disabled") in markup.unescape(response.body.decode())


GRID = GridChoice(id=3, name="<b>网格</b>", buildings=((7, '1栋"><script>'),), centroid=(22.5, 113.9),
                  boundary=None)


def test_user_text_is_escaped_on_the_report_page(monkeypatch):
    monkeypatch.setattr("gongzhi.resident_web._similar", lambda grid_id, category: [])
    html = report_page("en", GRID, "noise", values={"description": "</textarea><img src=x onerror=alert(1)>"},
                       errors=["<script>alert(2)</script>"]).body.decode()
    assert "<b>网格</b>" not in html and "&lt;b&gt;网格&lt;/b&gt;" in html
    assert "<img src=x" not in html and "<script>alert" not in html and '1栋"><script>' not in html
    assert translate_plain("en", "residents.consent") in markup.unescape(html)  # the consent line, in English as asked
    chinese = report_page("zh-CN", GRID, None).body.decode()
    assert translate_plain("zh-CN", "residents.choose_category") in chinese and "<form" not in chinese


def test_the_tracking_page_escapes_and_shows_skipped_steps():
    moment = datetime(2026, 3, 1, 9, 30)
    steps = tuple(Step(state, None if state == "meeting" else moment)
                  for state in ("reported", "grid_review", "meeting", "in_action", "resident_review"))
    view = Tracking(tracking_code="ABCD2345", issue_id=1, title="<i>灯</i>", category="repairs", grid="G",
                    state="resident_review", awaiting_screening=False, outcome="accepted", reject_reason=None, reject_note="", merged_into=None,
                    steps=steps, decision="approve", decision_note="<u>x</u>", may_rate=True)
    html = tracking_page(get("/track/t", {"token": "t"}), "en", "t", view).body.decode()
    assert "<i>灯</i>" not in html and "<u>x</u>" not in html
    assert translate_plain("en", "residents.step_skipped") in markup.unescape(html) and "ABCD-2345" in html
    assert 'id="gz-rate"' in html and "2026-03-01 09:30" in html
