"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2): issues out as service requests
and the issue categories as the service list, in JSON and XML, so Gongzhi can exchange data with
FixMyStreet-style systems; and GeoReport v2 requests in, as new issues.

Service requests carry no personal data: no reporter, no phone, only what the public map shows.
Times are local (Asia/Shanghai) and written as W3C/ISO 8601 with their offset (+08:00)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException
from shapely.geometry import Point
from sqlalchemy import func, select
from sqlmodel import Session

from gongzhi import i18n
from gongzhi.clock import ZONE, now
from gongzhi.crud.issues import IssueCreate, create_issue
from gongzhi.domain import CLOSED_STATES, ISSUE_CATEGORIES, AreaLevel, IssueState, resolution_due
from gongzhi.errors import GongzhiError, ValidationError
from gongzhi.geo import parse_boundary
from gongzhi.models import Area, Issue, Organisation, TimelineEntry
from gongzhi.permissions import Actor
from gongzhi.privacy import mask_personal_data
from gongzhi.queries.issues import visible_issue_condition
from gongzhi.validation import TITLE_MAX, InvalidValue, clean_date

FORMATS = ("json", "xml")
MEDIA_TYPES = {"json": "application/json", "xml": "application/xml"}
# The fields of a GET service request(s) response, in the spec's order (those Gongzhi fills).
REQUEST_FIELDS = ("service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url")
SERVICE_FIELDS = ("service_code", "service_name", "description", "metadata", "type", "keywords", "group")
MAX_IMPORT_BYTES = 20 * 1024 * 1024
CLOSED_CODES = frozenset(state.value for state in CLOSED_STATES)


def w3c(moment: datetime | None) -> str | None:
    """A stored local time as W3C/ISO 8601 with the community's offset: 2026-03-15T09:30:00+08:00."""
    if moment is None:
        return None
    return moment.replace(tzinfo=ZONE, microsecond=0).isoformat()


def _local(text: str) -> datetime:
    """An ISO 8601 time (with an offset, Z, or none = local) as naive local time."""
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZONE).replace(tzinfo=None)
    return moment.replace(microsecond=0)


# --- out ---------------------------------------------------------------------------------------

def service_list(*, lang: str = "zh-CN") -> list[dict[str, Any]]:
    """The issue categories as GeoReport services; the description gives the service levels."""
    group = i18n.translate_plain(lang, "exports.open311_group")
    return [{
        "service_code": code,
        "service_name": i18n.label(lang, "category", code),
        "description": i18n.translate_plain(lang, "exports.open311_service_description",
                                      response=response_days, resolution=resolution_days),
        "metadata": False,
        "type": "realtime",
        "keywords": "",
        "group": group,
    } for code, (response_days, resolution_days) in ISSUE_CATEGORIES.items()]


def _status_notes(lang: str, state: str, reject_reason: str | None) -> str:
    notes = i18n.label(lang, "state", state)
    if state == IssueState.REJECTED and reject_reason:
        notes += f": {i18n.label(lang, 'reject_reason', reject_reason)}"
    return notes


@dataclass(frozen=True)
class RequestQuery:
    """The filters of GET requests (GeoReport v2): ids (when given, the others are ignored, as the
    spec says), service codes, statuses (open / closed) and the reported time between start_at
    and end_at (naive local). public_only: for the public (the HTTP API), any phone or ID number in
    the text masked; newest first and at most `limit` when given. No request ever shows a resident's
    report before it is screened (queries.issues.visible_issue_condition)."""

    ids: tuple[int, ...] = ()
    service_codes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    start_at: datetime | None = None
    end_at: datetime | None = None
    public_only: bool = False
    limit: int | None = None


def _filtered(query, request_query: RequestQuery):
    if request_query.ids:
        return query.where(Issue.id.in_(request_query.ids))
    if request_query.service_codes:
        query = query.where(Issue.category.in_(request_query.service_codes))
    if set(request_query.statuses) == {"closed"}:
        query = query.where(Issue.state.in_(tuple(CLOSED_CODES)))
    elif set(request_query.statuses) == {"open"}:
        query = query.where(Issue.state.not_in(tuple(CLOSED_CODES)))
    if request_query.start_at is not None:
        query = query.where(Issue.reported_at >= request_query.start_at)
    if request_query.end_at is not None:
        query = query.where(Issue.reported_at <= request_query.end_at)
    return query


def service_requests(*, session: Session, lang: str = "zh-CN", start: date | None = None,
                     end: date | None = None, query: RequestQuery | None = None) -> list[dict[str, Any]]:
    """Every live issue (reported in [start, end] when given, filtered by `query`) as a GeoReport
    service request, oldest first (newest first with a limit). `description` is the title, a blank
    line and the description (GeoReport has no title); `address` is the grid, and the building when
    known; expected = the end of the due day."""
    request_query = query or RequestQuery()
    building = Area.__table__.alias("building")
    updated = (select(TimelineEntry.issue_id, func.max(TimelineEntry.created_at).label("at"))
               .group_by(TimelineEntry.issue_id).subquery())
    query = (
        select(Issue.id, Issue.state, Issue.reject_reason, Issue.category, Issue.title, Issue.description,
               Organisation.name.label("agency"), Issue.reported_at, Issue.closed_at, updated.c.at.label("updated"),
               Issue.due_date, Area.name.label("grid_name"), building.c.name.label("building_name"),
               Issue.lat, Issue.lon)
        .join(Area, Area.id == Issue.grid_id)
        .outerjoin(building, building.c.id == Issue.building_id)
        .outerjoin(Organisation, Organisation.id == Issue.lead_org_id)
        .outerjoin(updated, updated.c.issue_id == Issue.id)
        .where(visible_issue_condition(staff=False))  # never an unscreened resident report
    )
    query = _filtered(query, request_query)
    if request_query.limit is not None:
        query = query.order_by(Issue.reported_at.desc(), Issue.id.desc()).limit(request_query.limit)
    else:
        query = query.order_by(Issue.reported_at, Issue.id)
    if start is not None:
        query = query.where(Issue.reported_at >= datetime.combine(start, time.min))
    if end is not None:
        query = query.where(Issue.reported_at < datetime.combine(end + timedelta(days=1), time.min))
    requests = []
    for row in session.execute(query).all():
        description = row.title if not row.description else f"{row.title}\n\n{row.description}"
        if request_query.public_only:
            description = mask_personal_data(description)
        requests.append({
            "service_request_id": str(row.id),
            "status": "closed" if row.state in CLOSED_CODES else "open",
            "status_notes": _status_notes(lang, row.state, row.reject_reason),
            "service_name": i18n.label(lang, "category", row.category),
            "service_code": row.category,
            "description": description,
            "agency_responsible": row.agency or "",
            "service_notice": "",
            "requested_datetime": w3c(row.reported_at),
            "updated_datetime": w3c(max(filter(None, (row.updated, row.closed_at, row.reported_at)))),
            "expected_datetime": w3c(datetime.combine(row.due_date, time(23, 59, 59))),
            "address": " ".join(filter(None, (row.grid_name, row.building_name))),
            "address_id": "",
            "zipcode": "",
            "lat": row.lat,
            "long": row.lon,
            "media_url": "",
        })
    return requests


# Characters XML 1.0 cannot hold at all (control characters other than tab, line feed and return):
# left out, so that text someone pasted never makes the file ill-formed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(root_tag: str, item_tag: str, items: list[dict[str, Any]]) -> bytes:
    root = ElementTree.Element(root_tag)
    for item in items:
        element = ElementTree.SubElement(root, item_tag)
        for key, value in item.items():
            child = ElementTree.SubElement(element, key)
            if isinstance(value, bool):
                child.text = "true" if value else "false"
            elif value is not None:
                child.text = _NOT_XML.sub("", str(value))
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def render(items: list[dict[str, Any]], fmt: str, *, kind: str) -> bytes:
    """Services (kind "services") or service requests (kind "requests") as GeoReport JSON or XML."""
    if fmt == "json":
        return json.dumps(items, ensure_ascii=False, indent=1).encode("utf-8")
    if fmt == "xml":
        if kind == "services":
            return _xml("services", "service", items)
        return _xml("service_requests", "request", items)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


# --- in ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RowProblem:
    row: int  # 1-based position of the request in the file
    field: str
    reason: str  # English; the i18n key is in `key`
    key: str = "exports.open311_row_invalid"


class Open311ImportError(GongzhiError):
    """The file was refused and nothing was written: a file-level reason, or `problems` per row."""

    key = "exports.open311_refused"

    def __init__(self, key: str | None = None, problems: list[RowProblem] | None = None, **params):
        self.problems = problems or []
        super().__init__(key, count=len(self.problems), **params)


@dataclass
class ImportResult:
    created: dict[str, int] = field(default_factory=dict)  # service_request_id (or row) -> new issue id
    skipped_closed: list[str] = field(default_factory=list)  # closed requests are history, not new work


def parse_requests(data: bytes) -> list[dict[str, str]]:
    """GeoReport v2 requests from JSON (a list, or an object holding `service_requests`) or XML
    (<service_requests><request>…), each as a dict of text values. XML is parsed with defusedxml:
    entity expansion ("billion laughs"), external entities and DTDs are refused."""
    if len(data) > MAX_IMPORT_BYTES:
        raise Open311ImportError("exports.open311_too_large", limit_mb=MAX_IMPORT_BYTES // (1024 * 1024))
    text = data.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith((b"[", b"{")):
        try:
            parsed = json.loads(text.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise Open311ImportError("exports.open311_unreadable", detail=str(error)) from error
        if isinstance(parsed, dict):
            parsed = parsed.get("service_requests", parsed.get("requests"))
        if not isinstance(parsed, list) or not all(isinstance(item, dict) for item in parsed):
            raise Open311ImportError("exports.open311_unreadable", detail="expected a list of service requests")
        return [{key: "" if value is None else str(value) for key, value in item.items()} for item in parsed]
    if text.startswith(b"<"):
        try:
            root = SafeElementTree.fromstring(text, forbid_dtd=True)
        except (ElementTree.ParseError, DefusedXmlException) as error:
            raise Open311ImportError("exports.open311_unreadable", detail=str(error) or type(error).__name__) from error
        if root.tag not in ("service_requests", "requests"):
            raise Open311ImportError("exports.open311_unreadable", detail=f"unexpected root element <{root.tag}>")
        return [{child.tag: (child.text or "").strip() for child in request} for request in root]
    raise Open311ImportError("exports.open311_unreadable", detail="neither JSON nor XML")


def _grids(session: Session) -> list[tuple[int, str, Any]]:
    return [(grid_id, name, parse_boundary(boundary)) for grid_id, name, boundary in session.execute(
        select(Area.id, Area.name, Area.boundary)
        .where(Area.level == AreaLevel.GRID, Area.deleted_at.is_(None)).order_by(Area.code)).all()]


def _grid_for(grids, lat: float | None, lon: float | None, address: str) -> int | None:
    """The grid whose boundary holds the point; else the grid the address starts with (the longest
    such name, as this module writes addresses)."""
    if lat is not None and lon is not None:
        point = Point(lon, lat)
        for grid_id, _, boundary in grids:
            if boundary is not None and boundary.covers(point):
                return grid_id
    named = [(len(name), grid_id) for grid_id, name, _ in grids if name and address.strip().startswith(name)]
    return max(named)[1] if named else None


def _number(request: dict[str, str], key: str, problems: list[RowProblem], row: int) -> float | None:
    text = request.get(key, "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        problems.append(RowProblem(row, key, f"not a number: {text!r}"))
        return None


def _reported_at(text: str, row: int, problems: list[RowProblem]) -> datetime | None:
    """When the request was made: a time in the past, within the dates Gongzhi keeps."""
    if not text.strip():
        return None
    try:
        reported_at = clean_date(_local(text))
    except (ValueError, OverflowError):  # not a time, or one whose offset takes it past year 1 or 9999
        problems.append(RowProblem(row, "requested_datetime", f"not an ISO 8601 time: {text!r}"))
        return None
    except InvalidValue as refused:
        problems.append(RowProblem(row, "requested_datetime", refused.message("en")))
        return None
    if reported_at > now():
        problems.append(RowProblem(row, "requested_datetime", "lies in the future"))
        return None
    return reported_at


def _prepare(request: dict[str, str], row: int, grids, problems: list[RowProblem]):
    """(IssueCreate, reported_at) for one open request, with its problems added to `problems`."""
    code = request.get("service_code", "").strip()
    if code not in ISSUE_CATEGORIES:
        problems.append(RowProblem(row, "service_code", f"unknown service code {code!r}; the service list has "
                                                        f"{', '.join(ISSUE_CATEGORIES)}"))
    description = request.get("description", "").strip()
    title, _, rest = description.partition("\n")
    if not title.strip():
        problems.append(RowProblem(row, "description", "a description is required"))
    elif len(title.strip()) > TITLE_MAX:
        title, rest = title.strip()[:TITLE_MAX], description  # a long first line stays whole in the description
    lat, lon = _number(request, "lat", problems, row), _number(request, "long", problems, row)
    grid_id = _grid_for(grids, lat, lon, request.get("address", ""))
    if grid_id is None:
        problems.append(RowProblem(row, "lat/long", "no grid holds this place (and the address names none)"))
    reported_at = _reported_at(request.get("requested_datetime", ""), row, problems)
    data = IssueCreate(title=title.strip(), description=rest.strip(), category=code, grid_id=grid_id,
                       lat=lat, lon=lon)
    return data, reported_at


# crud.issues' form fields, named as the GeoReport field they come from.
_GEOREPORT_FIELD = {"issues.field_title": "description", "issues.field_description": "description",
                    "issues.field_category": "service_code", "issues.field_grid": "lat/long",
                    "issues.field_lat": "lat", "issues.field_lon": "long"}


def import_requests(*, session: Session, actor: Actor, data: bytes, lang: str = "en") -> ImportResult:
    """Create an issue for every open GeoReport request in the file (closed ones are listed as
    skipped), through crud.create_issue, so the same checks and permissions apply. All or
    nothing: any problem in any row refuses the whole file with every row's problems, and the
    caller's write session is rolled back (the exception leaves it)."""
    requests = parse_requests(data)
    grids = _grids(session)
    problems: list[RowProblem] = []
    result = ImportResult()
    for row, request in enumerate(requests, start=1):
        external_id = request.get("service_request_id", "").strip() or f"row {row}"
        if request.get("status", "open").strip().lower() == "closed":
            result.skipped_closed.append(external_id)
            continue
        row_problems: list[RowProblem] = []
        issue_data, reported_at = _prepare(request, row, grids, row_problems)
        problems.extend(row_problems)
        if row_problems:
            continue
        try:
            issue = create_issue(session=session, actor=actor, data=issue_data)
        except ValidationError as error:
            problems.extend(RowProblem(row, _GEOREPORT_FIELD.get(e.field, e.field),
                                       i18n.translate_plain(lang, e.key, **e.params)) for e in error.errors)
            continue
        if reported_at is not None:  # keep when it was reported, and the due date that follows from it
            issue.reported_at = reported_at
            issue.due_date = resolution_due(issue.category, reported_at)
        result.created[external_id] = issue.id
    if problems:
        raise Open311ImportError(problems=problems)
    session.flush()
    return result


# --- over HTTP (gongzhi.public_web serves these) ------------------------------------------------

DEFAULT_WINDOW = timedelta(days=90)  # GeoReport: with neither date, the last 90 days
MAX_REQUESTS = 1000  # GeoReport: at most 1,000 requests a response
STATUSES = ("open", "closed")


class Open311HttpError(GongzhiError):
    """A request the API refuses: `status` is the HTTP code, also the `code` of the error entry."""

    key = "open311.error_bad_request"

    def __init__(self, status: int, key: str | None = None, *, descriptions: list[str] | None = None, **params):
        self.status = status
        self.descriptions = descriptions or []
        super().__init__(key, **params)

    def entries(self, lang: str) -> list[dict[str, Any]]:
        """The GeoReport error array: one entry per problem, each with the HTTP code."""
        return [{"code": self.status, "description": text}
                for text in (self.descriptions or [self.plain_message(lang)])]


def render_errors(entries: list[dict[str, Any]], fmt: str) -> bytes:
    """GeoReport errors: a JSON array of {code, description}, or <errors><error>…</error></errors>."""
    if fmt == "xml":
        return _xml("errors", "error", entries)
    return json.dumps(entries, ensure_ascii=False, indent=1).encode("utf-8")


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _http_time(params: dict[str, str], name: str) -> datetime | None:
    text = params.get(name, "").strip()
    if not text:
        return None
    try:
        return _local(text.replace(" ", "+") if text.count(":") >= 2 and " " in text else text)
    except (ValueError, OverflowError) as error:
        raise Open311HttpError(400, "open311.error_bad_time", name=name) from error


def parse_request_query(params: dict[str, str]) -> RequestQuery:
    """The query of GET requests.json|xml as the spec defines it. Unknown service codes or
    statuses and unreadable times are refused (400). With neither start_date nor end_date, the
    last 90 days; at most 1,000 requests, newest first. Only what the public may see."""
    ids: list[int] = []
    for part in _split(params.get("service_request_id")):
        if not part.isdigit():
            raise Open311HttpError(400, "open311.error_bad_id", value=part[:40])
        ids.append(int(part))
    codes = _split(params.get("service_code"))
    unknown = [code for code in codes if code not in ISSUE_CATEGORIES]
    if unknown:
        raise Open311HttpError(400, "open311.error_bad_service_code", value=", ".join(unknown)[:80])
    statuses = tuple(status.lower() for status in _split(params.get("status")))
    if any(status not in STATUSES for status in statuses):
        raise Open311HttpError(400, "open311.error_bad_status")
    start_at, end_at = _http_time(params, "start_date"), _http_time(params, "end_date")
    if start_at is None and end_at is None and not ids:
        start_at = now() - DEFAULT_WINDOW
    if start_at is not None and end_at is not None and end_at < start_at:
        raise Open311HttpError(400, "open311.error_bad_range")
    return RequestQuery(ids=tuple(ids), service_codes=codes, statuses=statuses, start_at=start_at,
                        end_at=end_at, public_only=True, limit=MAX_REQUESTS)


def public_request(*, session: Session, request_id: int, lang: str) -> dict[str, Any] | None:
    """One service request as the public may see it (GET requests/{id}), or None."""
    found = service_requests(session=session, lang=lang,
                             query=RequestQuery(ids=(request_id,), public_only=True, limit=1))
    return found[0] if found else None


@dataclass(frozen=True)
class PostedReport:
    """A POST requests.json mapped onto a resident's report: the arguments of
    gongzhi.resident_reports.submit_report that come from the request."""

    grid_id: int
    category: str
    description: str
    lat: float | None
    lon: float | None
    phone: str | None


def posted_report(*, session: Session, form: dict[str, str], lang: str = "zh-CN") -> PostedReport:
    """Read a GeoReport v2 POST (service_code, description, lat/long or address_string, phone):
    the grid is the one whose boundary holds lat/long, else the one address_string starts with.
    Names and e-mail addresses a client sends are not kept; media_url is not fetched. Every
    problem is named at once (400)."""
    problems: list[str] = []
    code = form.get("service_code", "").strip()
    if not code:
        problems.append(i18n.translate_plain(lang, "open311.error_missing", name="service_code"))
    elif code not in ISSUE_CATEGORIES:
        problems.append(i18n.translate_plain(lang, "open311.error_bad_service_code", value=code[:40]))
    row: list[RowProblem] = []
    lat, lon = _number(form, "lat", row, 1), _number(form, "long", row, 1)
    problems += [f"{problem.field}: {problem.reason}" for problem in row]
    address = form.get("address_string", "")
    if (lat is None or lon is None) and not address.strip() and not form.get("address_id", "").strip():
        problems.append(i18n.translate_plain(lang, "open311.error_no_location"))
    grid_id = _grid_for(_grids(session), lat, lon, address) if not row else None
    if grid_id is None and not row and ((lat is not None and lon is not None) or address.strip()):
        problems.append(i18n.translate_plain(lang, "open311.error_no_grid"))
    if problems:
        raise Open311HttpError(400, descriptions=problems)
    return PostedReport(grid_id=grid_id, category=code, description=form.get("description", ""),
                        lat=lat, lon=lon, phone=form.get("phone", "").strip() or None)


def render_created(service_request_id: int | str | None, notice: str, fmt: str) -> bytes:
    """The answer to a POST: [{service_request_id, service_notice, account_id}]."""
    item = {"service_request_id": "" if service_request_id is None else str(service_request_id),
            "service_notice": notice, "account_id": ""}
    return render([item], fmt, kind="requests")
