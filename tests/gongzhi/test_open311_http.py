"""Open311 GeoReport v2 over HTTP (/open311/v2/), spoken to through the app's own routes and
middleware, signed out: the service list; service requests with the spec's filters, only the
public ones (never a resident's report before screening), with no name and no phone number; one
request by id; errors as the spec's arrays with their HTTP codes; POST refused without a live key
(none, unknown, revoked) and, with one, handed to the resident page's own submission and screening.
The spec's example POST round-trips: answered as the spec shows, invisible until screened, then
read back with the fields and formats GeoReport v2 defines."""

import json
from datetime import datetime, timedelta

import defusedxml.ElementTree as SafeElementTree
import pytest

from gongzhi.api_keys import issue_api_key, list_api_keys, revoke_api_key
from gongzhi.clock import now
from gongzhi.db import get_engine, read_session, write_session
from gongzhi.domain import ISSUE_CATEGORIES
from gongzhi.errors import PermissionDenied
from gongzhi.geo import parse_boundary
from gongzhi.permissions import Actor, Role
from gongzhi.resident_reports import MAX_REPORTS_PER_ADDRESS, accept_report
from gongzhi.sessions import token_hash
from tests.asgi import call, change, public_app
from tests.conftest import Sql, account_for_role
from tests.gongzhi.test_open311 import SPEC_REQUEST_FIELDS, SPEC_SERVICE_FIELDS, W3C
from tests.personal_data import full_mobiles

API = "/open311/v2"
GRID = 3
VISIBLE = ("SELECT id FROM issue WHERE deleted_at IS NULL AND awaiting_screening = :no "
           "AND id NOT IN (SELECT issue_id FROM residentreport WHERE outcome IN ('rejected', 'merged'))")


@pytest.fixture
def demo(public_demo):
    return public_demo


def admin(sql: Sql) -> Actor:
    return Actor(name="test-admin", role=Role.ADMIN, user_id=account_for_role(str(sql.engine.url), "admin"))


def new_key(sql: Sql, label: str = "随手拍 app") -> tuple[int, str]:
    actor = admin(sql)  # before the write: finding the account is a transaction of its own
    with write_session(sql.engine, actor=actor) as session:
        record, key = issue_api_key(session=session, actor=actor, label=label)
        return record.id, key


def get(path: str, **query) -> tuple[int, object, str]:
    answer = call(public_app(), "GET", f"{API}/{path}", query=query)
    assert answer.headers.get("location") is None  # never sent to the sign-in page
    if path.endswith(".xml"):
        return answer.status, SafeElementTree.fromstring(answer.body), answer.headers["content-type"]
    return answer.status, json.loads(answer.body), answer.headers["content-type"]


def post(form: dict, fmt: str = "json", client: str = "203.0.113.7"):
    answer = call(public_app(), "POST", f"{API}/requests.{fmt}", form=form, client=client,
                  headers={"X-Forwarded-For": "198.51.100.20"})  # from an untrusted peer: not believed
    body = SafeElementTree.fromstring(answer.body) if fmt == "xml" else json.loads(answer.body)
    return answer.status, body


def point_in_grid(sql: Sql, grid_id: int) -> tuple[float, float]:
    boundary = sql.scalar("SELECT boundary FROM area WHERE id = :id", id=grid_id)
    point = parse_boundary(boundary).representative_point()
    return point.y, point.x


# --- GET ---------------------------------------------------------------------------------------

def test_the_service_list_as_the_spec_shows_it(demo):
    status, services, media = get("services.json")
    assert status == 200 and media.startswith("application/json")
    assert [service["service_code"] for service in services] == list(ISSUE_CATEGORIES)
    assert all(set(service) == SPEC_SERVICE_FIELDS and service["metadata"] is False
               and service["type"] == "realtime" for service in services)
    status, root, media = get("services.xml")
    assert status == 200 and media.startswith("application/xml") and root.tag == "services"
    assert [element.findtext("service_code") for element in root.findall("service")] == list(ISSUE_CATEGORIES)
    assert {child.tag for child in root.find("service")} == SPEC_SERVICE_FIELDS


def test_requests_are_the_public_ones_of_the_last_90_days_without_personal_data(demo):
    waiting = demo.scalar("SELECT id FROM issue WHERE state = 'reported' ORDER BY reported_at DESC LIMIT 1")
    change(demo, "UPDATE issue SET awaiting_screening = :yes, source = 'resident' WHERE id = :id", yes=True, id=waiting)
    shown = demo.scalar("SELECT id FROM issue WHERE state = 'in_action' ORDER BY reported_at DESC LIMIT 1")
    change(demo, "UPDATE issue SET description = :text WHERE id = :id", text="请打 13800138000 找我", id=shown)
    status, requests, _ = get("requests.json")
    assert status == 200
    expected = {row[0] for row in demo.execute(VISIBLE + " AND reported_at >= :since", no=False,
                                               since=now() - timedelta(days=90)).all()}
    ids = [int(request["service_request_id"]) for request in requests]
    assert expected and set(ids) == expected and waiting not in ids and len(ids) == len(set(ids))
    assert ids == sorted(ids, key=lambda number: (next(r["requested_datetime"] for r in requests
                                                       if r["service_request_id"] == str(number)), number),
                         reverse=True)  # newest first
    for request in requests:
        assert set(request) == SPEC_REQUEST_FIELDS and request["status"] in ("open", "closed")
        for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
            assert W3C.match(request[field])
    values = [str(value) for request in requests for value in request.values()]
    assert not full_mobiles(values) and any("138****8000" in value for value in values)
    reporters = {row[0] for row in demo.execute(
        "SELECT DISTINCT p.name FROM person p JOIN issue i ON i.reporter_id = p.id").all()}
    body = json.dumps(requests, ensure_ascii=False)
    assert reporters and not [name for name in reporters if name in body]


def test_the_specs_filters(demo):
    code = demo.scalar("SELECT category FROM issue GROUP BY category ORDER BY COUNT(*) DESC LIMIT 1")
    status, requests, _ = get("requests.json", service_code=code, status="open")
    expected = {row[0] for row in demo.execute(
        VISIBLE + " AND category = :code AND state NOT IN ('closed', 'closed_unrated', 'rejected') "
        "AND reported_at >= :since", no=False, code=code, since=now() - timedelta(days=90)).all()}
    assert status == 200 and expected and {int(r["service_request_id"]) for r in requests} == expected
    assert {r["service_code"] for r in requests} == {code} and {r["status"] for r in requests} == {"open"}
    # A range in W3C form, with the offset written as a client sends it (a + unencoded reads as a space).
    start, end = now() - timedelta(days=200), now() - timedelta(days=100)
    status, requests, _ = get("requests.json", start_date=start.strftime("%Y-%m-%dT%H:%M:%S") + " 08:00",
                              end_date=end.strftime("%Y-%m-%dT%H:%M:%S+08:00"), status="closed")
    expected = {row[0] for row in demo.execute(
        VISIBLE + " AND state IN ('closed', 'closed_unrated', 'rejected') AND reported_at >= :start "
        "AND reported_at <= :end", no=False, start=start.replace(microsecond=0), end=end.replace(microsecond=0)).all()}
    assert status == 200 and expected and {int(r["service_request_id"]) for r in requests} == expected
    # service_request_id: exactly those (old ones too), the other filters ignored as the spec says.
    old = demo.scalar("SELECT MIN(id) FROM issue")
    status, requests, _ = get("requests.json", service_request_id=f"{old},{old + 1}", service_code="noise")
    assert status == 200 and [r["service_request_id"] for r in requests] == [str(old + 1), str(old)]


@pytest.mark.parametrize(("query", "fragment"), [
    ({"service_code": "no_such_service"}, "no_such_service"), ({"status": "pending"}, "status"),
    ({"start_date": "yesterday"}, "start_date"), ({"service_request_id": "1;DROP"}, "1;DROP"),
    ({"start_date": "2026-03-02T00:00:00+08:00", "end_date": "2026-03-01T00:00:00+08:00"}, "end_date"),
])
def test_a_bad_query_is_refused_with_the_specs_error_array(demo, query, fragment):
    status, errors, media = get("requests.json", lang="en", **query)
    assert status == 400 and media.startswith("application/json")
    assert [set(error) for error in errors] == [{"code", "description"}] and errors[0]["code"] == 400
    assert fragment in errors[0]["description"]
    status, root, _ = get("requests.xml", **query)
    assert status == 400 and root.tag == "errors" and root.find("error").findtext("code") == "400"


def test_one_request_by_its_number_and_an_unscreened_one_is_not_found(demo):
    shown = demo.scalar("SELECT id FROM issue WHERE state = 'meeting' LIMIT 1")
    status, (request,), _ = get(f"requests/{shown}.json")
    assert status == 200 and request["service_request_id"] == str(shown) and set(request) == SPEC_REQUEST_FIELDS
    status, root, _ = get(f"requests/{shown}.xml")
    assert status == 200 and root.tag == "service_requests" and root.find("request").findtext(
        "service_request_id") == str(shown)
    change(demo, "UPDATE issue SET awaiting_screening = :yes, source = 'resident' WHERE id = :id", yes=True, id=shown)
    for path in (f"requests/{shown}.json", "requests/999999.json", "requests/abc.json"):
        status, errors, _ = get(path)
        assert status == 404 and errors[0]["code"] == 404
    assert call(public_app(), "GET", f"{API}/requests.csv").status == 404


# --- POST ---------------------------------------------------------------------------------------

def spec_example(sql: Sql, key: str) -> dict:
    """The spec's example POST (GeoReport v2, POST Service Request), in this community: a service
    code of ours and a point inside the first grid."""
    lat, lon = point_in_grid(sql, GRID)
    return {"api_key": key, "service_code": "repairs", "lat": f"{lat:.8f}", "long": f"{lon:.8f}",
            "address_string": "1234 5th street", "email": "smit222@sfgov.edu", "device_id": "tt222111",
            "account_id": "123456", "first_name": "john", "last_name": "smith", "phone": "13912345678",
            "description": "A large sinkhole is destroying the street", "media_url": "http://www.city.gov/media/638344.jpg",
            "attribute[WHISETN]": "123", "attribute[ASHTRAY]": "no"}


def issue_count(sql: Sql) -> int:
    return sql.scalar("SELECT COUNT(*) FROM issue")


def test_a_post_without_a_live_key_is_refused_and_nothing_is_saved(demo):
    key_id, key = new_key(demo)
    form = spec_example(demo, key)
    before = issue_count(demo)
    for refused in ({k: v for k, v in form.items() if k != "api_key"}, {**form, "api_key": "not-a-key"},
                    {**form, "api_key": key + "x"}):
        status, errors = post(refused)
        assert status == 403 and errors[0]["code"] == 403 and "api_key" in errors[0]["description"]
    actor = admin(demo)  # before the write: finding the account is a transaction of its own
    with write_session(demo.engine, actor=actor) as session:
        revoke_api_key(session=session, actor=actor, key_id=key_id)
    status, root = post(form, fmt="xml")
    assert status == 403 and root.tag == "errors" and root.find("error").findtext("code") == "403"
    assert issue_count(demo) == before


def test_the_specs_example_post_round_trips_through_screening(demo):
    key_id, key = new_key(demo)
    status, answer = post(spec_example(demo, key))
    assert status == 201, answer
    assert [set(item) for item in answer] == [{"service_request_id", "service_notice", "account_id"}]
    number = int(answer[0]["service_request_id"])
    row = demo.execute("SELECT i.source, i.awaiting_screening, i.state, i.grid_id, i.category, r.phone, "
                       "r.client_address FROM issue i JOIN residentreport r ON r.issue_id = i.id WHERE i.id = :id",
                       id=number).one()
    assert (row.source, bool(row.awaiting_screening), row.state, row.grid_id, row.category) == (
        "open311", True, "reported", GRID, "repairs")
    # The resident's consent came with the number (the sending app asked); the peer is the address.
    assert row.phone == "+8613912345678" and row.client_address == "203.0.113.7"
    # Names, e-mail and device are not kept anywhere.
    for table in demo.table_names():
        for stored in demo.execute(f'SELECT * FROM "{table}"').all():
            joined = " ".join(str(value) for value in stored)
            assert "smith" not in joined and "smit222" not in joined and "tt222111" not in joined, table
    used = demo.scalar("SELECT last_used_at FROM apikey WHERE id = :id", id=key_id)
    assert used is not None
    # Not public before screening.
    assert get(f"requests/{number}.json")[0] == 404
    assert number not in {int(r["service_request_id"]) for r in get("requests.json")[1]}
    leader = Actor(name="test-leader", role=Role.LEADER, grid_ids=frozenset({GRID}),
                   user_id=account_for_role(str(demo.engine.url), "leader"))
    with write_session(demo.engine, actor=leader) as session:
        accept_report(session=session, actor=leader, issue_id=number, title="5th street sinkhole")
    status, (request,), _ = get(f"requests/{number}.json")
    assert status == 200 and set(request) == SPEC_REQUEST_FIELDS
    assert request["description"] == "5th street sinkhole\n\nA large sinkhole is destroying the street"
    assert (request["service_code"], request["status"]) == ("repairs", "open")
    lat, lon = point_in_grid(demo, GRID)
    assert request["lat"] == pytest.approx(lat, abs=1e-7) and request["long"] == pytest.approx(lon, abs=1e-7)
    assert W3C.match(request["requested_datetime"])
    assert datetime.fromisoformat(request["requested_datetime"]).replace(tzinfo=None) <= now()
    assert "13912345678" not in json.dumps(request) and "john" not in json.dumps(request)
    # XML: the same answer in the spec's XML form.
    status, root = post(spec_example(demo, key), fmt="xml", client="203.0.113.8")
    assert status == 201 and root.tag == "service_requests"
    assert root.find("request").findtext("service_request_id").isdigit()


def test_a_post_goes_through_the_resident_pages_own_checks(demo):
    _, key = new_key(demo)
    form = spec_example(demo, key)
    before = issue_count(demo)
    status, errors = post({**form, "description": "我的身份证号 11010519491231002X 请核实", "phone": ""})
    assert status == 400 and errors[0]["code"] == 400
    status, errors = post({**form, "service_code": "sinkholes", "lat": "", "long": "", "address_string": ""})
    assert status == 400 and len(errors) == 2  # unknown service and no location: both named at once
    status, errors = post({**form, "lat": "22.0", "long": "100.0", "address_string": "nowhere"})
    assert status == 400
    assert issue_count(demo) == before
    # The same limit per client address as the resident page.
    statuses = [post({**form, "phone": ""}, client="203.0.113.50")[0] for _ in range(MAX_REPORTS_PER_ADDRESS + 1)]
    assert statuses == [201] * MAX_REPORTS_PER_ADDRESS + [429]
    assert issue_count(demo) == before + MAX_REPORTS_PER_ADDRESS


def test_no_post_where_residents_reports_are_switched_off(demo, monkeypatch):
    _, key = new_key(demo)
    before = issue_count(demo)
    monkeypatch.setenv("GONGZHI_RESIDENT_REPORTS", "0")
    status, errors = post(spec_example(demo, key))
    assert status == 403 and errors[0]["code"] == 403 and issue_count(demo) == before
    assert get("requests.json")[0] == 200  # reading stays open


# --- keys -----------------------------------------------------------------------------------------

def test_keys_are_issued_and_revoked_by_admins_only_stored_hashed_and_audited(demo):
    key_id, key = new_key(demo, label="  街道 随手拍  ")
    assert len(key) >= 43
    assert demo.scalar("SELECT token_hash FROM apikey WHERE id = :id", id=key_id) == token_hash(key)
    for table in demo.table_names():
        for stored in demo.execute(f'SELECT * FROM "{table}"').all():
            assert key not in " ".join(str(value) for value in stored), table
    with read_session(demo.engine) as session:
        keys = list_api_keys(session=session, actor=admin(demo))
    assert keys.loc[keys["id"] == key_id, "label"].item() == "街道 随手拍"
    committee = Actor(name="c", role=Role.COMMITTEE, user_id=account_for_role(str(demo.engine.url), "committee"))
    with pytest.raises(PermissionDenied), write_session(demo.engine, actor=committee) as session:
        issue_api_key(session=session, actor=committee, label="x")
    with pytest.raises(PermissionDenied), write_session(demo.engine, actor=committee) as session:
        revoke_api_key(session=session, actor=committee, key_id=key_id)
    actor = admin(demo)  # before the write: finding the account is a transaction of its own
    with write_session(demo.engine, actor=actor) as session:
        revoke_api_key(session=session, actor=actor, key_id=key_id)
    audit = demo.execute("SELECT action, actor, after FROM auditentry WHERE table_name = 'apikey' "
                         "AND record_id = :id ORDER BY id", id=str(key_id)).all()
    assert [entry.action for entry in audit] == ["insert", "update"] and {e.actor for e in audit} == {"test-admin"}
    assert all(token_hash(key) not in (entry.after or "") for entry in audit)


def test_the_engine_of_the_tests_is_the_apps(demo):
    assert get_engine() is demo.engine  # the routes read the same database the test writes
