"""Residents' own reports (gongzhi.resident_reports): limits, honeypot, photos re-encoded without
EXIF, screening, the one visibility rule, tracking and the reporter's rating."""

import io
from datetime import datetime

import pytest
from PIL import Image
from sqlalchemy import select

from gongzhi import clock
from gongzhi.db import read_session, write_session
from gongzhi.domain import AreaLevel, IssueState
from gongzhi.errors import GongzhiError, ValidationError
from gongzhi.lifecycle import move
from gongzhi.models import Area, AuditEntry, Issue, Organisation, ResidentPhoto, ResidentReport
from gongzhi.permissions import Actor, Role
from gongzhi.queries.issues import OPEN_STATE_CODES, issue_detail, issue_points, list_issues
from gongzhi.queries.residents import open_issues_like, screening_queue, status_by_code, tracking_by_token
from gongzhi.resident_reports import (
    MAX_REPORTS_PER_ADDRESS,
    MAX_REPORTS_PER_PHONE,
    ReportThrottled,
    accept_report,
    add_me_too,
    merge_report,
    rate_by_link,
    reject_report,
    submit_report,
)
from tests.conftest import COMMITTEE

MOMENT = datetime(2026, 3, 10, 10, 0)


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (640, 480), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0132] = "2026:03:10 09:00:00"  # DateTime
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (22.0, 33.0, 44.0), 3: "E", 4: (113.0, 52.0, 10.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the upload does carry GPS
    return data


def bomb() -> bytes:
    """A small PNG that decodes to 200 million pixels."""
    out = io.BytesIO()
    Image.new("1", (20000, 10000)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def grid(demo_engine):
    with read_session(demo_engine) as session:
        grid = session.execute(select(Area).where(Area.level == AreaLevel.GRID).order_by(Area.code)).scalars().first()
        building = session.execute(select(Area).where(Area.parent_id == grid.id,
                                                      Area.level == AreaLevel.BUILDING)).scalars().first()
        return grid.id, building.id if building else None


def send(engine, grid_id, **overrides):
    fields = dict(grid_id=grid_id, category="repairs", description="3栋电梯坏了三天", client_address="198.51.100.7")
    fields.update(overrides)
    with clock.frozen(MOMENT), write_session(engine) as session:
        return submit_report(session, **fields)


def test_a_report_waits_for_screening_and_is_shown_to_no_one_but_staff(demo_engine, grid):
    grid_id, building_id = grid
    receipt = send(demo_engine, grid_id, building_id=building_id, photos=[jpeg_with_gps()],
                   phone="138 0013 8000", consent=True)
    with read_session(demo_engine) as session:
        issue = session.get(Issue, receipt.issue_id)
        assert (issue.state, issue.source, issue.awaiting_screening) == ("reported", "resident", True)
        report = session.execute(select(ResidentReport).where(ResidentReport.issue_id == issue.id)).scalar_one()
        assert report.phone == "+8613800138000" and report.token_hash != receipt.token
        # public lists, details, the map: nothing of it; staff see it
        assert receipt.issue_id not in set(list_issues(session=session, may_see_personal_data=False)["id"])
        assert receipt.issue_id in set(list_issues(session=session, may_see_personal_data=True)["id"])
        assert issue_detail(session=session, issue_id=issue.id, may_see_personal_data=False) is None
        with clock.frozen(MOMENT):
            points = issue_points(session=session, start=clock.today(), end=clock.today())
        assert receipt.issue_id not in set(points["id"])
        queue = screening_queue(session, actor=COMMITTEE)
        row = queue[queue["id"] == receipt.issue_id].iloc[0]
        assert row["phone"] == "13800138000" and row["photos"] == 1
        representative = Actor(name="代表", role=Role.REPRESENTATIVE)
        assert screening_queue(session, actor=representative).empty


def test_the_stored_photo_has_no_exif_and_no_gps(demo_engine, grid):
    receipt = send(demo_engine, grid[0], photos=[jpeg_with_gps()])
    with read_session(demo_engine) as session:
        stored = session.execute(select(ResidentPhoto.content).where(ResidentPhoto.issue_id == receipt.issue_id)).scalar_one()
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG" and image.size == (640, 480)
    assert len(image.getexif()) == 0 and not image.getexif().get_ifd(0x8825)
    assert "exif" not in image.info and b"Exif" not in stored and b"PhoneMaker" not in stored


def test_a_decompression_bomb_and_a_non_image_are_refused_and_nothing_is_saved(demo_engine, grid):
    for upload, key in ((bomb(), "residents.photo_too_many_pixels"), (b"not an image", "residents.photo_unreadable")):
        with pytest.raises(ValidationError) as refused:
            send(demo_engine, grid[0], photos=[upload])
        assert [(e.field, e.key) for e in refused.value.errors] == [("residents.field_photos", key)]
    with read_session(demo_engine) as session:
        assert session.execute(select(ResidentReport)).first() is None


def test_every_problem_is_named_at_once(demo_engine, grid):
    with pytest.raises(ValidationError) as refused:
        send(demo_engine, grid[0], category="", description="身份证 110101199003077777",
             phone="12345", photos=[b"x"] * 4)
    fields = {e.field: e.key for e in refused.value.errors}
    assert fields == {"residents.field_description": "errors.national_id", "residents.field_category": "errors.required",
                      "residents.field_phone": "errors.invalid_phone",
                      "residents.field_photos": "residents.too_many_photos"}
    with pytest.raises(ValidationError) as refused:
        send(demo_engine, grid[0], phone="13800138000", consent=False)
    assert [e.key for e in refused.value.errors] == ["residents.consent_required"]


def test_thirty_reports_from_one_address_in_a_minute_are_limited(demo_engine, grid):
    outcomes = []
    for _ in range(30):
        try:
            send(demo_engine, grid[0])
            outcomes.append("saved")
        except ReportThrottled as error:
            outcomes.append(error.plain_message("en"))
    assert outcomes[:MAX_REPORTS_PER_ADDRESS] == ["saved"] * MAX_REPORTS_PER_ADDRESS
    refusal = f"{MAX_REPORTS_PER_ADDRESS} reports have been sent from this network in 60 minutes. Please try again later"
    assert all(o.startswith(refusal) for o in outcomes[MAX_REPORTS_PER_ADDRESS:])
    assert len(outcomes) == 30
    assert send(demo_engine, grid[0], client_address="203.0.113.50").issue_id  # another address is not limited


def test_one_phone_number_is_limited_across_addresses(demo_engine, grid):
    for number in range(MAX_REPORTS_PER_PHONE):
        send(demo_engine, grid[0], client_address=f"203.0.113.{number}", phone="13800138000", consent=True)
    with pytest.raises(ReportThrottled) as refused:
        send(demo_engine, grid[0], client_address="203.0.113.99", phone="+86 138-0013-8000", consent=True)
    assert refused.value.key == "residents.throttled_phone"


def test_a_filled_honeypot_is_refused(demo_engine, grid):
    with pytest.raises(GongzhiError) as refused:
        send(demo_engine, grid[0], honeypot="http://spam.example")
    assert refused.value.key == "residents.refused"


def _lead(engine):
    with read_session(engine) as session:
        return session.execute(select(Organisation.id).order_by(Organisation.id)).scalar()


def test_accept_then_the_loop_then_the_reporter_rates(demo_engine, grid):
    receipt = send(demo_engine, grid[0])
    code_view = None
    with write_session(demo_engine, actor=COMMITTEE) as session:
        accept_report(session, actor=COMMITTEE, issue_id=receipt.issue_id, title="3栋电梯故障")
    with write_session(demo_engine, actor=COMMITTEE) as session:
        move(session=session, issue_id=receipt.issue_id, to_state="in_action", actor=COMMITTEE, lead_org_id=_lead(demo_engine))
        move(session=session, issue_id=receipt.issue_id, to_state="resident_review", actor=COMMITTEE)
    with read_session(demo_engine) as session:
        assert receipt.issue_id in set(list_issues(session=session, may_see_personal_data=False)["id"])
        view = tracking_by_token(session, receipt.token)
        code_view = status_by_code(session, receipt.tracking_code.lower()[:4] + "-" + receipt.tracking_code[4:])
    assert view.state == "resident_review" and view.may_rate and view.title == "3栋电梯故障"
    assert [step.reached_at is not None for step in view.steps] == [True, True, False, True, True]
    assert code_view.state == "resident_review" and code_view.steps == () and not code_view.may_rate
    with write_session(demo_engine) as session:
        assert rate_by_link(session, token=receipt.token, rating=4, fix_status="not_fixed").state == IssueState.IN_ACTION
    with write_session(demo_engine, actor=COMMITTEE) as session:
        move(session=session, issue_id=receipt.issue_id, to_state="resident_review", actor=COMMITTEE)
    with write_session(demo_engine) as session:
        assert rate_by_link(session, token=receipt.token, rating=5, fix_status="fixed").state == IssueState.CLOSED
    with read_session(demo_engine) as session:
        assert tracking_by_token(session, "not-the-token") is None
        assert session.get(Issue, receipt.issue_id).reopen_count == 1


def test_rejected_and_merged_reports_stay_out_of_public_lists(demo_engine, grid):
    spam = send(demo_engine, grid[0], description="买房找我")
    duplicate = send(demo_engine, grid[0], client_address="203.0.113.8")
    with read_session(demo_engine) as session:
        target = session.execute(select(Issue.id).where(  # any screened open issue (steps vary with the day)
            Issue.grid_id == grid[0], Issue.state.in_(OPEN_STATE_CODES), Issue.awaiting_screening.is_(False),
            Issue.deleted_at.is_(None)).order_by(Issue.id)).scalar()
    assert target is not None
    with write_session(demo_engine, actor=COMMITTEE) as session:
        reject_report(session, actor=COMMITTEE, issue_id=spam.issue_id, reason="spam", note="广告")
        merge_report(session, actor=COMMITTEE, issue_id=duplicate.issue_id, into_issue_id=target)
    with read_session(demo_engine) as session:
        public = set(list_issues(session=session, may_see_personal_data=False)["id"])
        assert not {spam.issue_id, duplicate.issue_id} & public
        rejected = tracking_by_token(session, spam.token)
        merged = tracking_by_token(session, duplicate.token)
    assert (rejected.outcome, rejected.reject_reason, rejected.reject_note) == ("rejected", "spam", "广告")
    assert merged.merged_into == target and merged.issue_id == target and merged.residents_affected >= 1


def test_a_leader_screens_only_their_grids(demo_engine, grid):
    receipt = send(demo_engine, grid[0])
    other = Actor(name="别的网格长", role=Role.LEADER, grid_ids=frozenset({-1}))
    with read_session(demo_engine) as session:
        assert screening_queue(session, actor=other).empty
    with pytest.raises(GongzhiError), write_session(demo_engine, actor=other) as session:
        accept_report(session, actor=other, issue_id=receipt.issue_id, title="x")


def test_me_too_is_counted_once_per_address_on_a_screened_open_issue(demo_engine, grid):
    with read_session(demo_engine) as session:
        similar = open_issues_like(session, grid_id=grid[0], category="repairs")
    if not similar:
        pytest.skip("the demo grid has no open repairs issue")
    issue_id = similar[0].id
    with write_session(demo_engine) as session:
        first = add_me_too(session, issue_id=issue_id, client_address="203.0.113.1")
        again = add_me_too(session, issue_id=issue_id, client_address="203.0.113.1")
        second = add_me_too(session, issue_id=issue_id, client_address="203.0.113.2")
    assert (first, again, second) == (similar[0].residents_affected + 1,) * 2 + (similar[0].residents_affected + 2,)
    unscreened = send(demo_engine, grid[0])
    with pytest.raises(GongzhiError), write_session(demo_engine) as session:
        add_me_too(session, issue_id=unscreened.issue_id, client_address="203.0.113.3")


def test_a_report_moved_on_before_screening_can_still_be_screened(demo_engine, grid):
    receipt = send(demo_engine, grid[0])
    with write_session(demo_engine, actor=COMMITTEE) as session:
        move(session=session, issue_id=receipt.issue_id, to_state="grid_review", actor=COMMITTEE)
    with write_session(demo_engine, actor=COMMITTEE) as session:
        issue = accept_report(session, actor=COMMITTEE, issue_id=receipt.issue_id, title="电梯")
        assert (issue.state, issue.awaiting_screening) == ("grid_review", False)
    with pytest.raises(GongzhiError) as refused, write_session(demo_engine, actor=COMMITTEE) as session:
        accept_report(session, actor=COMMITTEE, issue_id=receipt.issue_id, title="电梯")
    assert refused.value.key == "residents.already_screened"


def test_the_audit_trail_keeps_a_photo_s_size_not_a_copy(demo_engine, grid):
    receipt = send(demo_engine, grid[0], photos=[jpeg_with_gps()])
    with read_session(demo_engine) as session:
        size = len(session.execute(select(ResidentPhoto.content)
                                   .where(ResidentPhoto.issue_id == receipt.issue_id)).scalar_one())
        after = session.execute(select(AuditEntry.after).where(AuditEntry.table_name == "residentphoto")).scalar_one()
    assert f'"content": "{size} bytes"' in after and len(after) < 1000


def test_open311_lists_a_resident_report_only_once_it_is_accepted(demo_engine, grid):
    from gongzhi.open311 import service_requests

    receipt = send(demo_engine, grid[0], phone="13800138000", consent=True)
    with read_session(demo_engine) as session:
        listed = {int(r["service_request_id"]) for r in service_requests(session=session)}
    assert receipt.issue_id not in listed
    with write_session(demo_engine, actor=COMMITTEE) as session:
        accept_report(session, actor=COMMITTEE, issue_id=receipt.issue_id, title="电梯故障")
    with read_session(demo_engine) as session:
        requests = service_requests(session=session)
    mine = [r for r in requests if int(r["service_request_id"]) == receipt.issue_id]
    assert len(mine) == 1 and "13800138000" not in repr(mine) and "8000" not in repr(mine)
