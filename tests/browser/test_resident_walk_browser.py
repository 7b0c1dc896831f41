"""A resident's whole loop in Chromium on a phone (390×844, signed out): the grid's QR link →
report with a photo → the tracking link → the grid leader screens and accepts it (in the app) →
staff move it through the loop → the tracking page shows each step → rated "not fixed" → reopened →
rated 5 → closed. The stored photo carries no EXIF; the tracking page no phone number and no name.
Also in plain HTTP: one address is limited after the set number of reports, with a clear message
and the typed text kept."""

import http.client
import io
import re
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from PIL import Image
from playwright.sync_api import expect

from gongzhi import clock
from gongzhi.crud.meetings import (
    DecisionInput,
    MeetingCreate,
    add_agenda_item,
    decide,
    plan_meeting,
    record_meeting_attendance,
)
from gongzhi.db import get_engine, write_session
from gongzhi.i18n import translate_plain
from gongzhi.lifecycle import move
from gongzhi.privacy import mask_personal_data
from gongzhi.resident_reports import MAX_REPORTS_PER_ADDRESS
from tests.browser.helpers import TIMEOUT_MS, open_from_menu, save_screenshot, sign_in, wait_for_app
from tests.conftest import COMMITTEE, Sql

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2,
         "locale": "zh-CN",
         "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
                       "Chrome/126.0 Mobile Safari/537.36 MicroMessenger/8.0.49"}
TYPED_PHONE = "13912345678"
UNTRUSTED_PEER = "127.0.0.3"  # a loopback address that is no trusted proxy: its own address counts


def zh(key: str, **params) -> str:
    return translate_plain("zh-CN", key, **params)


def gps_photo(path) -> None:
    image = Image.new("RGB", (1200, 900), (40, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (22.0, 33.0, 44.0), 3: "E", 4: (113.0, 52.0, 10.0)})
    image.save(path, format="JPEG", exif=exif)


def leader_grid(sql: Sql) -> tuple[int, str]:
    row = sql.execute('SELECT a.id, a.name FROM usergrid g JOIN "user" u ON u.id = g.user_id '
                      "JOIN area a ON a.id = g.grid_id WHERE u.username = 'leader'").fetchone()
    return int(row.id), row.name


def staff_move(url: str, issue_id: int, target: str, **fields) -> None:
    with write_session(get_engine(url), actor=COMMITTEE) as session:
        move(session=session, issue_id=issue_id, to_state=target, actor=COMMITTEE, **fields)


def meeting_decides(url: str, issue_id: int, organisation_id: int) -> None:
    """The deliberation meeting approves the issue: a lead organisation and a due date."""
    with write_session(get_engine(url), actor=COMMITTEE) as session:
        meeting = plan_meeting(session=session, actor=COMMITTEE, data=MeetingCreate(
            title="居民议事会", kind="deliberation", held_at=clock.now(), attendees="王敏\n李强\n陈静", quorum=2))
        record_meeting_attendance(session=session, actor=COMMITTEE, meeting_id=meeting.id,
                                  attendees="王敏\n李强\n陈静", quorum_met=True)
        item = add_agenda_item(session=session, actor=COMMITTEE, meeting_id=meeting.id, issue_id=issue_id)
        decide(session=session, actor=COMMITTEE, agenda_item_id=item.id, data=DecisionInput(
            decision="approve", note="同意更换楼道灯", lead_org_id=organisation_id,
            due_date=clock.today() + timedelta(days=10), votes_for=3))


def step_classes(page) -> dict[str, str]:
    return page.locator(".gz-steps li").evaluate_all(
        "items => Object.fromEntries(items.map(li => [li.dataset.step, li.className]))")


def assert_no_personal_data(page, *names: str) -> None:
    text = page.locator("body").inner_text()
    html = page.content()
    assert TYPED_PHONE not in html and TYPED_PHONE[-4:] not in text
    assert mask_personal_data(text) == text  # no mobile number of any shape
    for name in names:
        assert name not in html


def test_a_resident_reports_follows_and_rates_from_a_phone(app_server, browser, tmp_path):
    sql = Sql(app_server.database_url)
    grid_id, grid_name = leader_grid(sql)
    photo = tmp_path / "photo.jpg"
    gps_photo(photo)
    phone = browser.new_context(**PHONE)
    resident = phone.new_page()

    # The QR code's link: Chinese by default, big category buttons, no sign-in.
    resident.goto(f"{app_server.url}/report/{grid_id}")
    expect(resident.locator("h1")).to_have_text(zh("residents.page_title", grid=grid_name))
    save_screenshot(resident, "resident-report-categories-zh")
    resident.get_by_role("link", name=zh("category.repairs"), exact=True).click()
    expect(resident.get_by_role("heading", name=zh("residents.similar_title"))).to_be_visible()
    resident.get_by_label(zh("residents.field_description")).fill("5栋楼道灯坏了一周，晚上很黑")
    building = resident.get_by_label(zh("residents.field_building"))
    building.select_option(index=1)
    map_box = resident.locator("#gz-map")
    expect(map_box).to_be_visible()  # JavaScript on: the map is offered
    map_box.click()
    expect(resident.locator("#gz-lat")).not_to_have_value("")
    resident.locator("#gz-photos").set_input_files(str(photo))
    resident.get_by_label(zh("residents.field_phone")).fill(TYPED_PHONE)
    resident.get_by_text(zh("residents.consent")).click()
    save_screenshot(resident, "resident-report-form-zh")
    resident.get_by_role("button", name=zh("residents.send"), exact=True).click()

    # Sent: the code and the private link.
    expect(resident.locator("#gz-code")).to_be_visible()
    link = resident.locator("#gz-link").inner_text().strip()
    code = resident.locator("#gz-code").inner_text().replace("-", "")
    assert urlsplit(link).path.startswith("/track/") and urlsplit(resident.url).path == urlsplit(link).path
    expect(resident.locator("#gz-status")).to_have_text(zh("residents.status_awaiting"))
    save_screenshot(resident, "resident-sent-zh")
    report = sql.execute("SELECT r.issue_id, r.phone, i.lat, i.building_id, i.awaiting_screening FROM residentreport r "
                         "JOIN issue i ON i.id = r.issue_id WHERE r.tracking_code = :code", code=code).fetchone()
    issue_id = int(report.issue_id)
    assert report.phone == "+86" + TYPED_PHONE and report.lat is not None and report.building_id is not None
    assert report.awaiting_screening

    # The stored photo, read back: re-encoded, no EXIF at all (no GPS, no maker).
    stored = bytes(sql.scalar("SELECT content FROM residentphoto WHERE issue_id = :id", id=issue_id))
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG" and len(image.getexif()) == 0 and b"PhoneMaker" not in stored

    # The grid leader screens it in the app and accepts it, with a title of their own.
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    leader = desk.new_page()
    sign_in(leader, app_server.url, "leader")
    open_from_menu(leader, translate_plain("en", "residents.nav"))
    card = leader.locator(f".st-key-screening_{issue_id}")
    expect(card).to_contain_text("5栋楼道灯坏了一周")
    expect(card).to_contain_text(TYPED_PHONE)  # their own grid: the number left for follow-up (privacy.phone_for)
    card.get_by_label(translate_plain("en", "issues.field_title")).fill("5栋楼道灯损坏")
    save_screenshot(leader, "resident-screening-en")
    card.get_by_role("button", name=translate_plain("en", "residents.screening_accept")).click()
    expect(leader.get_by_text(translate_plain("en", "residents.screening_done"))).to_be_visible(timeout=TIMEOUT_MS)
    wait_for_app(leader)
    assert sql.scalar("SELECT state FROM issue WHERE id = :id", id=issue_id) == "grid_review"

    # The tracking page follows every step.
    resident.goto(link)
    expect(resident.locator("#gz-status")).to_have_text(zh("residents.status_now", state=zh("state.grid_review")))
    assert step_classes(resident) == {"reported": "gz-done", "grid_review": "gz-now", "meeting": "",
                                      "in_action": "", "resident_review": ""}
    staff_move(app_server.database_url, issue_id, "meeting")
    resident.reload()
    assert step_classes(resident)["meeting"] == "gz-now"
    organisation = sql.execute("SELECT id, name FROM organisation WHERE deleted_at IS NULL ORDER BY id").fetchone()
    meeting_decides(app_server.database_url, issue_id, int(organisation.id))
    resident.reload()
    facts = resident.locator("dl")
    expect(facts).to_contain_text(zh("decision.approve"))
    expect(facts).to_contain_text("同意更换楼道灯")
    expect(facts).to_contain_text(organisation.name)
    expect(facts).to_contain_text((clock.today() + timedelta(days=10)).isoformat())
    assert step_classes(resident) == {"reported": "gz-done", "grid_review": "gz-done", "meeting": "gz-done",
                                      "in_action": "gz-now", "resident_review": ""}
    save_screenshot(resident, "resident-tracking-in-action-zh")
    assert_no_personal_data(resident, "王敏", "李强", "陈静")
    staff_move(app_server.database_url, issue_id, "resident_review")
    resident.reload()
    assert step_classes(resident)["resident_review"] == "gz-now"
    expect(resident.locator("#gz-rate")).to_be_visible()
    save_screenshot(resident, "resident-tracking-review-zh")
    staff_names = [row[0] for row in sql.execute(
        'SELECT display_name FROM "user" UNION SELECT p.name FROM person p JOIN area a ON a.leader_id = p.id').fetchall()]
    assert_no_personal_data(resident, COMMITTEE.name, *staff_names)

    # Rated "not fixed": reopened, back in action.
    resident.locator("#gz-rate input[name=rating][value='4']").check()
    resident.get_by_label(zh("fix_status.not_fixed")).check()
    resident.get_by_label(zh("residents.rate_comment")).fill("灯还是不亮")
    resident.get_by_role("button", name=zh("residents.rate_submit")).click()
    expect(resident.locator("#gz-rated")).to_have_text(zh("residents.rated_reopened"))
    assert step_classes(resident)["in_action"] == "gz-now"
    expect(resident.get_by_text(zh("residents.reopened", n=1))).to_be_visible()
    assert sql.scalar("SELECT reopen_count FROM issue WHERE id = :id", id=issue_id) == 1

    # Fixed at last: rated 5, closed.
    staff_move(app_server.database_url, issue_id, "resident_review")
    resident.reload()
    resident.locator("#gz-rate input[name=rating][value='5']").check()
    resident.get_by_label(zh("fix_status.fixed")).check()
    resident.get_by_role("button", name=zh("residents.rate_submit")).click()
    expect(resident.locator("#gz-rated")).to_have_text(zh("residents.rated_closed"))
    expect(resident.locator("#gz-status")).to_have_text(zh("residents.status_now", state=zh("state.closed")))
    assert sql.scalar("SELECT state FROM issue WHERE id = :id", id=issue_id) == "closed"
    assert sql.scalar("SELECT rating FROM issue WHERE id = :id", id=issue_id) == 5
    save_screenshot(resident, "resident-tracking-closed-zh")
    assert_no_personal_data(resident, COMMITTEE.name, *staff_names)

    # The code alone: the status only, no steps and no rating.
    resident.goto(f"{app_server.url}/track?code={code[:4].lower()}-{code[4:]}")
    expect(resident.locator("#gz-status")).to_have_text(zh("residents.status_now", state=zh("state.closed")))
    assert resident.locator(".gz-steps").count() == 0 and resident.locator("#gz-rate").count() == 0

    # English on request, for the screenshots.
    resident.goto(f"{link}?lang=en")
    expect(resident.locator("h1")).to_have_text(translate_plain("en", "residents.track_title"))
    save_screenshot(resident, "resident-tracking-closed-en")
    resident.goto(f"{app_server.url}/report/{grid_id}?category=repairs&lang=en")
    expect(resident.get_by_role("button", name=translate_plain("en", "residents.send"))).to_be_visible()
    save_screenshot(resident, "resident-report-form-en")
    desk.close()
    phone.close()


def post(server, path: str, body: dict[str, str], *, source: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30, source_address=(source, 0))
    connection.request("POST", path, body=urlencode(body),
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    response.body = response.read().decode("utf-8")
    connection.close()
    return response


def test_one_address_is_limited_with_a_clear_message_and_keeps_what_was_typed(app_server):
    grid_id, _ = leader_grid(Sql(app_server.database_url))
    statuses, last = [], None
    for number in range(MAX_REPORTS_PER_ADDRESS + 2):
        last = post(app_server, f"/report/{grid_id}", {"category": "noise", "description": f"夜里装修噪音 {number}",
                                                        "lang": "en"}, source=UNTRUSTED_PEER)
        statuses.append(last.status)
    assert statuses == [303] * MAX_REPORTS_PER_ADDRESS + [429, 429]
    assert f"{MAX_REPORTS_PER_ADDRESS} reports have been sent from this network in 60 minutes" in last.body
    assert re.search(r"<textarea[^>]*>夜里装修噪音 " + str(MAX_REPORTS_PER_ADDRESS + 1) + "</textarea>", last.body)


@pytest.mark.parametrize("honeypot", ["https://spam.example"])
def test_a_bot_filling_the_hidden_field_is_refused(app_server, honeypot):
    grid_id, _ = leader_grid(Sql(app_server.database_url))
    response = post(app_server, f"/report/{grid_id}", {"category": "noise", "description": "x", "website": honeypot},
                    source="127.0.0.4")
    assert response.status == 400 and zh("residents.refused") in response.body


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_resident_pages_have_no_serious_or_critical_accessibility_violation(app_server, browser, lang):
    grid_id, _ = leader_grid(Sql(app_server.database_url))
    sent = post(app_server, f"/report/{grid_id}", {"category": "noise", "description": "夜里装修噪音", "lang": lang},
                source="127.0.0.5")
    assert sent.status == 303
    context = browser.new_context(**PHONE)
    page = context.new_page()
    for path in (f"/report/{grid_id}?lang={lang}", f"/report/{grid_id}?category=noise&lang={lang}",
                 sent.getheader("location"), f"/track?lang={lang}"):
        page.goto(app_server.url + path)
        expect(page.locator("h1")).to_be_visible()
        blocking = [f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
                    for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
        assert not blocking, (path, blocking)
    context.close()
