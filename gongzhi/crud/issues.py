"""Writing issues: report a new one, note progress, and (re)assign the lead organisation while it
is in action. State changes and ratings go through `gongzhi.lifecycle.move` / `rate`, which keep
the five-step rules; everything here also writes its line on the issue's timeline."""

from collections.abc import Iterable
from datetime import date

from sqlalchemy import delete
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session, SQLModel

from gongzhi.clock import now
from gongzhi.domain import ISSUE_CATEGORIES, AreaLevel, IssueState
from gongzhi.errors import FieldError, IllegalTransition, ValidationError
from gongzhi.lifecycle import created_fields, get_issue_for_update, progress_fields
from gongzhi.models import Area, Issue, IssueCooperator, Organisation, Person
from gongzhi.permissions import Actor, require_some_write, require_write
from gongzhi.timeline import record
from gongzhi.validation import (
    DESCRIPTION,
    DESCRIPTION_MAX,  # noqa: F401 (the forms' max_chars)
    LATITUDE,
    LONGITUDE,
    NOTE,
    NOTE_MAX,
    TITLE,
    TITLE_MAX,  # noqa: F401 (the forms' max_chars)
    check_date,
    check_number,
    check_text,
)


class IssueCreate(SQLModel):
    """What a person fills in to report an issue. Left unvalidated here on purpose: create_issue
    checks every field and reports all problems at once, each under its form field."""

    title: str = ""
    description: str = ""
    category: str = ""
    grid_id: int | None = None
    building_id: int | None = None
    reporter_id: int | None = None  # None = anonymous
    lat: float | None = None
    lon: float | None = None


def _live_area(session: Session, area_id: int | None, level: AreaLevel) -> Area | None:
    area = session.get(Area, area_id) if area_id is not None else None
    if area is None or area.deleted_at is not None or area.level != level:
        return None
    return area


def _live_organisation(session: Session, organisation_id: int | None) -> Organisation | None:
    organisation = session.get(Organisation, organisation_id) if organisation_id is not None else None
    if organisation is None or organisation.deleted_at is not None:
        return None
    return organisation


def create_issue(*, session: Session, actor: Actor, data: IssueCreate) -> Issue:
    """居民提事: a new issue in `reported`, due by its category's resolution SLA, located at the
    grid's centre unless a point is given, with its "created" line on the timeline."""
    require_some_write(actor)  # before validation, which looks up the reporter
    errors: list[FieldError] = []
    title = check_text(errors, "issues.field_title", data.title, TITLE, required=True)
    description = check_text(errors, "issues.field_description", data.description, DESCRIPTION)
    if not data.category:
        errors.append(FieldError("issues.field_category", "errors.required"))
    elif data.category not in ISSUE_CATEGORIES:
        errors.append(FieldError("issues.field_category", "errors.invalid_choice"))
    grid = _live_area(session, data.grid_id, AreaLevel.GRID)
    if data.grid_id is None:
        errors.append(FieldError("issues.field_grid", "errors.required"))
    elif grid is None:
        errors.append(FieldError("issues.field_grid", "errors.invalid_choice"))
    if data.building_id is not None:
        building = _live_area(session, data.building_id, AreaLevel.BUILDING)
        if building is None or (grid is not None and building.parent_id != grid.id):
            errors.append(FieldError("issues.field_building", "issues.reason_building_not_in_grid"))
    if data.reporter_id is not None:
        reporter = session.get(Person, data.reporter_id)
        if reporter is None or reporter.deleted_at is not None:
            errors.append(FieldError("issues.field_reporter", "errors.invalid_choice"))
    check_number(errors, "issues.field_lat", data.lat, LATITUDE)
    check_number(errors, "issues.field_lon", data.lon, LONGITUDE)
    if errors:
        raise ValidationError(errors)
    require_write(actor, grid_id=grid.id)

    issue = Issue(
        title=title, description=description, category=data.category, grid_id=grid.id,
        building_id=data.building_id, reporter_id=data.reporter_id, **created_fields(data.category, now()),
        lat=data.lat if data.lat is not None else grid.centroid_lat,
        lon=data.lon if data.lon is not None else grid.centroid_lon,
    )
    session.add(issue)
    session.flush()  # the timeline entry needs the new id
    record(session, issue_id=issue.id, kind="created", actor=actor, to_state=IssueState.REPORTED.value,
           at=issue.reported_at)
    session.flush()
    return issue


def _require_in_action(issue: Issue, what: str) -> None:
    if issue.state != IssueState.IN_ACTION:
        raise IllegalTransition(key="issues.only_in_action", current=issue.state, action=what)


def add_progress_note(*, session: Session, actor: Actor, issue_id: int, note: str,
                      expected_version: int | None = None) -> Issue:
    """A progress line on the timeline of an issue in action (联动办事)."""
    issue = get_issue_for_update(session, issue_id, expected_version)
    require_write(actor, grid_id=issue.grid_id)
    _require_in_action(issue, "progress")
    errors: list[FieldError] = []
    note = check_text(errors, "issues.field_note", note, NOTE, required=True)
    if errors:
        raise ValidationError(errors)
    at = now()
    for name, value in progress_fields(issue, at).items():
        setattr(issue, name, value)
    session.add(issue)
    record(session, issue_id=issue.id, kind="progress", actor=actor, note=note,
           from_state=issue.state, to_state=issue.state, at=at)
    session.flush()
    return issue


def assign(*, session: Session, actor: Actor, issue_id: int, lead_org_id: int | None, due_date: date | None,
           cooperator_ids: Iterable[int] = (), note: str = "", expected_version: int | None = None,
           meeting_id: int | None = None) -> Issue:
    """Change the lead organisation, due date and co-operating organisations of an issue in action.
    A new due date may not lie in the past; keeping the current one is always allowed. With
    `meeting_id`, the meeting that decided it is named on the timeline."""
    issue = get_issue_for_update(session, issue_id, expected_version)
    require_write(actor, grid_id=issue.grid_id)
    _require_in_action(issue, "assignment")
    cooperator_ids = sorted({int(i) for i in cooperator_ids})
    errors: list[FieldError] = []
    note = check_text(errors, "issues.field_note", note, NOTE)
    lead = _live_organisation(session, lead_org_id)
    if lead_org_id is None:
        errors.append(FieldError("issues.field_lead_org", "errors.required"))
    elif lead is None:
        errors.append(FieldError("issues.field_lead_org", "errors.invalid_choice"))
    if due_date is None:
        errors.append(FieldError("issues.field_due_date", "errors.required"))
    elif due_date != issue.due_date and due_date < now().date():
        errors.append(FieldError("issues.field_due_date", "errors.date_in_past"))
    elif due_date != issue.due_date:
        check_date(errors, "issues.field_due_date", due_date)
    cooperators = [_live_organisation(session, i) for i in cooperator_ids]
    if any(c is None for c in cooperators):
        errors.append(FieldError("issues.field_cooperators", "errors.invalid_choice"))
    elif lead_org_id in cooperator_ids:
        errors.append(FieldError("issues.field_cooperators", "issues.reason_lead_is_cooperator"))
    if errors:
        raise ValidationError(errors)

    issue.lead_org_id = lead.id
    issue.due_date = due_date
    # Co-operators live in their own table; mark the issue changed so its version moves with
    # every assignment and a form loaded before it is refused as stale.
    flag_modified(issue, "lead_org_id")
    session.execute(delete(IssueCooperator).where(IssueCooperator.issue_id == issue.id))
    for cooperator in cooperators:
        session.add(IssueCooperator(issue_id=issue.id, organisation_id=cooperator.id))
    session.add(issue)
    session.flush()
    summary = " · ".join(part for part in (
        lead.name, due_date.isoformat(), "+ " + ", ".join(c.name for c in cooperators) if cooperators else "", note,
    ) if part)
    record(session, issue_id=issue.id, kind="assignment", actor=actor, note=summary[:NOTE_MAX],
           from_state=issue.state, to_state=issue.state, meeting_id=meeting_id)
    session.flush()
    return issue

