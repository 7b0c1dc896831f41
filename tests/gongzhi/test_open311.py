"""Open311 GeoReport v2: the service requests and the service list checked against the spec's
field lists (required fields present, datetimes W3C with +08:00, XML well-formed and equal to the
JSON), no personal data in them; import round trip; all-or-nothing with row-level problems;
hostile XML refused."""

import json
import re
from datetime import date, datetime, timedelta

import defusedxml.ElementTree as SafeElementTree
import pytest

from gongzhi import open311
from gongzhi.cli import main
from gongzhi.db import get_engine, read_session, write_session
from gongzhi.domain import ISSUE_CATEGORIES
from gongzhi.permissions import Actor, Role
from tests.conftest import Sql
from tests.personal_data import FULL_MOBILE

ADMIN = Actor(name="open311-admin", role=Role.ADMIN)
# GeoReport v2, GET service requests: fields a response must carry for each request, and all it may.
REQUIRED_REQUEST_FIELDS = {"service_request_id", "status", "service_code", "requested_datetime"}
SPEC_REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code",
                       "description", "agency_responsible", "service_notice", "requested_datetime",
                       "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
                       "long", "media_url"}
SPEC_SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$")


@pytest.fixture
def demo(demo_url):
    return demo_url, Sql(demo_url)


def requests_of(url: str, lang: str = "zh-CN") -> list[dict]:
    with read_session(get_engine(url)) as session:
        return open311.service_requests(session=session, lang=lang)


def test_service_requests_carry_the_spec_fields(demo):
    url, connection = demo
    requests = requests_of(url)
    assert len(requests) == connection.execute("SELECT COUNT(*) FROM issue WHERE deleted_at IS NULL").fetchone()[0]
    states = dict(connection.execute("SELECT id, state FROM issue").all())
    for request in requests:
        assert set(request) <= SPEC_REQUEST_FIELDS and REQUIRED_REQUEST_FIELDS <= set(request)
        assert request["status"] in ("open", "closed")
        closed = states[int(request["service_request_id"])] in ("closed", "closed_unrated", "rejected")
        assert (request["status"] == "closed") is closed
        assert request["service_code"] in ISSUE_CATEGORIES and request["service_name"]
        for key in ("requested_datetime", "updated_datetime", "expected_datetime"):
            assert W3C.match(request[key]), request[key]
            assert datetime.fromisoformat(request[key]).utcoffset() == timedelta(hours=8)
        assert datetime.fromisoformat(request["updated_datetime"]) >= datetime.fromisoformat(
            request["requested_datetime"])
        assert isinstance(request["lat"], float) and isinstance(request["long"], float)
        assert 18 < request["lat"] < 54 and 73 < request["long"] < 135  # in China, not swapped
        assert request["description"] and request["address"]


def test_service_requests_hold_no_personal_data(demo):
    url, connection = demo
    text = json.dumps(requests_of(url), ensure_ascii=False)
    phones = {phone[3:] for (phone,) in connection.execute("SELECT phone FROM person WHERE phone IS NOT NULL")}
    assert not set(FULL_MOBILE.findall(text)) & phones
    assert not any(phone[-8:] in text for phone in phones)
    reporters = {name for (name,) in connection.execute(
        "SELECT DISTINCT p.name FROM person p JOIN issue i ON i.reporter_id = p.id")}
    fields = {key for request in requests_of(url) for key in request}
    assert not fields & {"first_name", "last_name", "email", "phone", "reporter", "account_id"}
    assert reporters  # the demo does name reporters; none of them is a field above


def test_xml_is_well_formed_and_says_what_the_json_says(demo):
    url, _ = demo
    requests = requests_of(url, "en")
    root = SafeElementTree.fromstring(open311.render(requests, "xml", kind="requests"))
    assert root.tag == "service_requests" and len(root) == len(requests)
    for element, request in zip(root, requests, strict=True):
        assert element.tag == "request"
        values = {child.tag: child.text or "" for child in element}
        assert set(values) == set(request)
        for key, value in request.items():
            assert values[key] == ("" if value is None else str(value))
    assert json.loads(open311.render(requests, "json", kind="requests")) == requests


def test_the_service_list_has_every_category(demo):
    services = open311.service_list(lang="en")
    assert [service["service_code"] for service in services] == list(ISSUE_CATEGORIES)
    for service in services:
        assert set(service) == SPEC_SERVICE_FIELDS
        assert service["metadata"] is False and service["type"] in ("realtime", "batch", "blackbox")
        assert service["service_name"] and service["description"]
    root = SafeElementTree.fromstring(open311.render(services, "xml", kind="services"))
    assert root.tag == "services" and [s.find("service_code").text for s in root] == list(ISSUE_CATEGORIES)
    assert {s.find("metadata").text for s in root} == {"false"}


@pytest.mark.parametrize("fmt", open311.FORMATS)
def test_import_round_trip_recreates_the_open_issues(demo, fmt):
    url, connection = demo
    exported = requests_of(url)
    data = open311.render(exported, fmt, kind="requests")
    before = connection.execute("SELECT COUNT(*) FROM issue").fetchone()[0]
    with write_session(get_engine(url), actor=ADMIN) as session:
        result = open311.import_requests(session=session, actor=ADMIN, data=data)
    open_requests = [r for r in exported if r["status"] == "open"]
    assert len(result.created) == len(open_requests) > 0
    assert len(result.skipped_closed) == len(exported) - len(open_requests)
    assert connection.execute("SELECT COUNT(*) FROM issue").fetchone()[0] == before + len(open_requests)
    columns = "title, description, category, grid_id, building_id, lat, lon, reported_at, due_date, state, reporter_id"
    for request in open_requests:
        original = connection.execute(f"SELECT {columns} FROM issue WHERE id = :issue",
                                      issue=int(request["service_request_id"])).fetchone()
        copy = connection.execute(f"SELECT {columns} FROM issue WHERE id = :issue",
                                  issue=result.created[request["service_request_id"]]).fetchone()
        assert copy[:3] == original[:3]  # title, description, category
        assert copy[3] == original[3]  # the grid, found from the point
        assert copy[5:7] == pytest.approx(original[5:7])
        assert copy[7] == original[7] and copy[9] == "reported" and copy[10] is None
    # and out again: the same requests, but for the id, status and timeline-dependent fields
    again = {r["service_request_id"]: r for r in requests_of(url)}
    for request in open_requests:
        copy = again[str(result.created[request["service_request_id"]])]
        for key in ("service_code", "service_name", "description", "requested_datetime", "lat", "long"):
            assert copy[key] == request[key], key


def test_import_is_all_or_nothing_with_every_rows_problem(demo):
    url, connection = demo
    good = {"service_code": "noise", "description": "楼上深夜噪音\n\n每晚十二点后仍有装修声。",
            "lat": None, "long": None, "address": "", "requested_datetime": "2026-01-05T08:00:00+08:00"}
    good["address"] = connection.execute(
        "SELECT name FROM area WHERE level = 'grid' ORDER BY code LIMIT 1").fetchone()[0]
    rows = [good,
            {"service_code": "teleport", "description": "x", "lat": "22.57", "long": "113.87"},
            {"service_code": "noise", "description": "", "lat": "0", "long": "0"},
            {"service_code": "noise", "description": "身份证 440301199001011234", "address": good["address"]},
            {"service_code": "noise", "description": "x", "address": good["address"],
             "requested_datetime": "yesterday"}]
    before = connection.execute("SELECT COUNT(*), (SELECT value FROM revision) FROM issue").fetchone()
    with pytest.raises(open311.Open311ImportError) as refused, \
            write_session(get_engine(url), actor=ADMIN) as session:
        open311.import_requests(session=session, actor=ADMIN, data=json.dumps(rows).encode())
    problems = {(p.row, p.field) for p in refused.value.problems}
    assert {(2, "service_code"), (3, "description"), (3, "lat/long"), (4, "description"),
            (5, "requested_datetime")} <= problems
    assert not any(row == 1 for row, _ in problems)
    assert connection.execute("SELECT COUNT(*), (SELECT value FROM revision) FROM issue").fetchone() == before
    # the good row alone goes in, into the grid its address names
    with write_session(get_engine(url), actor=ADMIN) as session:
        result = open311.import_requests(session=session, actor=ADMIN, data=json.dumps([good]).encode())
    issue_id = result.created["row 1"]
    title, grid, reported = connection.execute(
        "SELECT title, (SELECT name FROM area WHERE id = grid_id), reported_at FROM issue WHERE id = :issue",
        issue=issue_id).fetchone()
    assert (title, grid, str(reported)[:19]) == ("楼上深夜噪音", good["address"], "2026-01-05 08:00:00")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<service_requests><request><description>&lol3;</description></request></service_requests>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<service_requests><request><description>&secret;</description></request></service_requests>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY, b"<service_requests><request>",
                                  b"not json or xml", b"{\"service_requests\": 3}", b"<services/>"])
def test_hostile_or_broken_files_are_refused_before_anything_is_written(demo, data):
    url, connection = demo
    before = connection.execute("SELECT COUNT(*) FROM issue").fetchone()[0]
    with pytest.raises(open311.Open311ImportError) as refused, \
            write_session(get_engine(url), actor=ADMIN) as session:
        open311.import_requests(session=session, actor=ADMIN, data=data)
    assert "nothing" in str(refused.value)
    assert connection.execute("SELECT COUNT(*) FROM issue").fetchone()[0] == before


def test_a_grid_leader_imports_only_into_their_grid(demo):
    url, connection = demo
    grids = connection.execute("SELECT id, name FROM area WHERE level = 'grid' ORDER BY code LIMIT 2").fetchall()
    leader = Actor(name="leader", role=Role.LEADER, grid_ids=frozenset({grids[0][0]}))
    rows = [{"service_code": "noise", "description": "a", "address": grids[0][1]},
            {"service_code": "noise", "description": "b", "address": grids[1][1]}]
    before = connection.execute("SELECT COUNT(*) FROM issue").fetchone()[0]
    with pytest.raises(Exception, match="permission|not allowed|may not"), \
            write_session(get_engine(url), actor=leader) as session:
        open311.import_requests(session=session, actor=leader, data=json.dumps(rows).encode())
    assert connection.execute("SELECT COUNT(*) FROM issue").fetchone()[0] == before


def test_the_cli_exports_and_imports(demo, tmp_path, capsys):
    url, connection = demo
    requests_file, services_file = tmp_path / "requests.xml", tmp_path / "services.json"
    assert main(["--database-url", url, "open311-export", str(requests_file)]) == 0
    assert main(["--database-url", url, "open311-export", "--services", str(services_file)]) == 0
    assert SafeElementTree.fromstring(requests_file.read_bytes()).tag == "service_requests"
    assert len(json.loads(services_file.read_text(encoding="utf-8"))) == len(ISSUE_CATEGORIES)
    before = connection.execute("SELECT COUNT(*) FROM issue").fetchone()[0]
    assert main(["--database-url", url, "open311-import", "--dry-run", str(requests_file)]) == 0
    assert connection.execute("SELECT COUNT(*) FROM issue").fetchone()[0] == before
    assert main(["--database-url", url, "open311-import", str(requests_file)]) == 0
    opened = connection.execute("SELECT COUNT(*) FROM issue WHERE id <= :last AND state NOT IN "
                                "('closed', 'closed_unrated', 'rejected')", last=before).fetchone()[0]
    assert connection.execute("SELECT COUNT(*) FROM issue").fetchone()[0] == before + opened
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"service_code": "nope", "description": "x"}]), encoding="utf-8")
    capsys.readouterr()
    assert main(["--database-url", url, "open311-import", str(bad)]) == 1
    assert "row 1, service_code" in capsys.readouterr().err


def test_control_characters_stored_before_they_were_refused_leave_the_xml_well_formed(demo):
    """The forms refuse control characters now (gongzhi.validation); rows written before that
    rule, or straight into the database, must still export as well-formed XML."""
    from gongzhi.models import Issue

    url, connection = demo
    grid = connection.execute("SELECT id FROM area WHERE level = 'grid' ORDER BY code LIMIT 1").fetchone()[0]
    with write_session(get_engine(url), actor=ADMIN) as session:
        issue = Issue(title="电梯\x0b故障", description="<b>&\x01</b>", category="repairs", grid_id=grid,
                      reported_at=datetime(2025, 6, 1, 9, 0), due_date=date(2025, 6, 15))
        session.add(issue)
        session.flush()
        issue_id = issue.id
    root = SafeElementTree.fromstring(open311.render(requests_of(url), "xml", kind="requests"))
    request = next(r for r in root if r.find("service_request_id").text == str(issue_id))
    assert request.find("description").text == "电梯故障\n\n<b>&</b>"
