"""Database tables. One SQLModel class per table; Create/Update variants live beside the
functions that use them in `gongzhi.crud`. Times are naive local time (Asia/Shanghai, see
`gongzhi.clock`); geometries are GeoJSON text in WGS-84 longitude/latitude (RFC 7946)."""

from datetime import date

from pydantic import NaiveDatetime
from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, LargeBinary, Text, UniqueConstraint, text
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from gongzhi.clock import now

# Times are naive local time in the community's zone (gongzhi.clock); SQLModel's default would
# demand timezone-aware values.
LocalDateTime = NaiveDatetime


class Versioned(SQLModel):
    """Optimistic locking: every UPDATE checks and bumps `version`, so a save made against an
    older copy fails with StaleDataError instead of silently overwriting someone's change."""

    version: int = Field(default=1, sa_column_kwargs={"nullable": False})

    @declared_attr
    def __mapper_args__(cls):  # noqa: N805 - SQLAlchemy declared_attr receives the class
        return {"version_id_col": cls.__table__.c.version}


class SoftDeleted(SQLModel):
    # Not indexed: nearly every row is live (NULL), so an index on it filters nothing, and
    # without statistics SQLite's planner prefers its equality over a real range index (the
    # district benchmark measured event figures 17× slower with it).
    deleted_at: LocalDateTime | None = Field(default=None)


class Revision(SQLModel, table=True):
    """The generation of the data (row 1): bumped by whole-database operations (a reset, a restore,
    the district seed) so that no cache key made before one is seen again (gongzhi.revisions)."""

    id: int = Field(default=1, primary_key=True)
    value: int = Field(default=0)


class DataRevision(SQLModel, table=True):
    """One of a kind of data's counter rows (gongzhi.revisions): the kind's revision is the sum of
    its stripes, and each write transaction bumps one stripe, so no row is locked by every write."""

    kind: str = Field(primary_key=True, max_length=40)
    stripe: int = Field(primary_key=True)
    value: int = Field(default=0)


class PartRevision(SQLModel, table=True):
    """One counter of a part of a kind of data (gongzhi.parts): the revision of the issues, or of
    the attendance, of one community (the parent area of the grid the row belongs to; 0 for none).
    Kept by database triggers (migration 0009_community_parts) in every writing transaction: a
    part's revision is the sum of its stripes, and a transaction bumps one stripe (its transaction
    number's), so concurrent saves of one community rarely wait on each other and saves of
    different communities never do."""

    kind: str = Field(primary_key=True, max_length=40)
    part: int = Field(primary_key=True)
    stripe: int = Field(primary_key=True)
    value: int = Field(default=0)


class AppSetting(SQLModel, table=True):
    """Small facts about this installation, e.g. that it holds the demo community."""

    key: str = Field(primary_key=True, max_length=40)
    value: str = Field(default="", max_length=200)


class Area(Versioned, SoftDeleted, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=80)
    level: str = Field(max_length=12, index=True)  # domain.AreaLevel
    parent_id: int | None = Field(default=None, foreign_key="area.id", index=True)
    population: int = Field(default=0)
    households: int = Field(default=0)
    # use_alter: area and person refer to each other, so this key is added after both tables exist.
    leader_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("person.id", use_alter=True, name="fk_area_leader_id"), nullable=True))
    boundary: str | None = Field(default=None, sa_type=Text)  # GeoJSON geometry
    centroid_lon: float | None = None
    centroid_lat: float | None = None


class Facility(Versioned, SoftDeleted, table=True):
    """A public facility in a grid (school, library, clinic, …), a point on the map."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    kind: str = Field(max_length=24, index=True)  # domain.FacilityKind
    grid_id: int = Field(foreign_key="area.id", index=True)
    lon: float
    lat: float


class Person(Versioned, SoftDeleted, table=True):
    """A resident or worker. Never holds a national ID number."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=40)
    phone: str | None = Field(default=None, max_length=20, index=True)  # normalised +86…
    grid_id: int | None = Field(default=None, foreign_key="area.id", index=True)
    building_id: int | None = Field(default=None, foreign_key="area.id")
    birth_year: int | None = None
    created_at: LocalDateTime = Field(default_factory=now)


class Organisation(Versioned, SoftDeleted, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    kind: str = Field(max_length=24, index=True)  # domain.OrgKind
    contact_name: str | None = Field(default=None, max_length=40)
    contact_phone: str | None = Field(default=None, max_length=20)
    description: str = Field(default="", max_length=500)


class Volunteer(Versioned, SoftDeleted, table=True):
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", unique=True)
    grid_id: int | None = Field(default=None, foreign_key="area.id", index=True)
    skills: str = Field(default="", max_length=300)  # comma-separated domain.VOLUNTEER_SKILLS codes
    status: str = Field(default="active", max_length=12, index=True)  # domain.VolunteerStatus
    joined_on: date = Field(default_factory=lambda: now().date())
    note: str = Field(default="", max_length=500)


class TeamMembership(SQLModel, table=True):
    volunteer_id: int = Field(foreign_key="volunteer.id", primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True, index=True)


class ServiceRecord(SQLModel, table=True):
    """Hours a volunteer served, on an event or an issue (or general duty when neither)."""

    __table_args__ = (Index("ix_servicerecord_volunteer_day", "volunteer_id", "served_on"),)
    id: int | None = Field(default=None, primary_key=True)
    volunteer_id: int = Field(foreign_key="volunteer.id")
    served_on: date = Field(index=True)
    hours: float
    event_id: int | None = Field(default=None, foreign_key="event.id", index=True)
    issue_id: int | None = Field(default=None, foreign_key="issue.id")
    note: str = Field(default="", max_length=300)
    created_at: LocalDateTime = Field(default_factory=now)


class VolunteerHours(SQLModel, table=True):
    """Summary: a volunteer's all-time service hours in thousandths (an integer, so adding and
    subtracting is exact and two writers' additions never lose one another). Kept by database
    triggers on servicerecord (migration 0007_scale_revisions) in the writing transaction,
    whatever writes the record; read by the star-level figure."""

    volunteer_id: int = Field(primary_key=True, foreign_key="volunteer.id")
    total_millihours: int = Field(default=0, sa_type=BigInteger)


# Counters the database keeps by triggers, not data: never copied (the target's triggers count its
# own writes), never audited, never a kind of data.
COUNTER_TABLES = {PartRevision.__tablename__}


class Issue(Versioned, SoftDeleted, table=True):
    __table_args__ = (
        Index("ix_issue_state_grid", "state", "grid_id"),
        Index("ix_issue_grid_reported", "grid_id", "reported_at"),
        # Partial: only the few reports waiting for screening. A full index on a flag that is false
        # on nearly every row led SQLite's planner (no statistics) to walk 100,000 issues for each
        # of 1,000 grids in issues_by_grid (28 s at district scale).
        Index("ix_issue_awaiting_screening", "awaiting_screening",
              sqlite_where=text("awaiting_screening IS 1"), postgresql_where=text("awaiting_screening")),
    )
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=120)
    description: str = Field(default="", sa_type=Text)
    category: str = Field(max_length=24, index=True)  # key of domain.ISSUE_CATEGORIES
    grid_id: int = Field(foreign_key="area.id")
    building_id: int | None = Field(default=None, foreign_key="area.id")
    reporter_id: int | None = Field(default=None, foreign_key="person.id")  # None = anonymous
    state: str = Field(default="reported", max_length=20)  # domain.IssueState
    reported_at: LocalDateTime = Field(default_factory=now, index=True)
    first_response_at: LocalDateTime | None = None
    resolved_at: LocalDateTime | None = Field(default=None, index=True)  # reached resident_review
    closed_at: LocalDateTime | None = None
    due_date: date  # SLA default at creation, replaced when a lead organisation is assigned
    days_to_resolve: float | None = None  # set at resolution: portable SQL aggregates need no date maths
    resolved_on_time: bool | None = None
    resolved_in_grid: bool | None = None  # True when it never went to a meeting (矛盾不上交)
    went_to_meeting: bool = Field(default=False)
    lead_org_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    reject_reason: str | None = Field(default=None, max_length=20)  # domain.RejectReason
    duplicate_of_id: int | None = Field(default=None, foreign_key="issue.id")
    rating: int | None = None  # latest rating 1..5
    fix_status: str | None = Field(default=None, max_length=16)  # domain.FixStatus
    reopen_count: int = Field(default=0)
    lat: float | None = None
    lon: float | None = None
    source: str = Field(default="staff", max_length=12)  # domain.IssueSource
    awaiting_screening: bool = Field(default=False)  # a resident's report not yet screened


class IssueCooperator(SQLModel, table=True):
    issue_id: int = Field(foreign_key="issue.id", primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True)


class TimelineEntry(SQLModel, table=True):
    """One line of an issue's timeline. kind: created | transition | progress | assignment | rating."""

    __table_args__ = (Index("ix_timeline_issue_at", "issue_id", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    issue_id: int = Field(foreign_key="issue.id")
    kind: str = Field(max_length=12)
    from_state: str | None = Field(default=None, max_length=20)
    to_state: str | None = Field(default=None, max_length=20)
    actor: str = Field(max_length=40)
    actor_role: str = Field(max_length=20)
    note: str = Field(default="", max_length=1000)
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id")
    created_at: LocalDateTime = Field(default_factory=now)


class Rating(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    issue_id: int = Field(foreign_key="issue.id", index=True)
    rating: int
    fix_status: str = Field(max_length=16)
    comment: str = Field(default="", max_length=500)
    rated_by: str = Field(max_length=40)
    created_at: LocalDateTime = Field(default_factory=now)


class Event(Versioned, SoftDeleted, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=120)
    kind: str = Field(max_length=24, index=True)  # domain.EventKind
    host_org_id: int | None = Field(default=None, foreign_key="organisation.id")
    grid_id: int | None = Field(default=None, foreign_key="area.id", index=True)  # None = whole community
    starts_at: LocalDateTime = Field(index=True)
    ends_at: LocalDateTime
    place: str = Field(default="", max_length=120)
    capacity: int | None = None
    headcount: int = Field(default=0)  # anonymous attendance, kept apart from named attendance
    description: str = Field(default="", sa_type=Text)


class Attendance(SQLModel, table=True):
    """A named resident who took part in an event."""

    __table_args__ = (UniqueConstraint("event_id", "person_id"),)
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)


class EventNamed(SQLModel, table=True):
    """Summary: an event's named attendance (attendance records of persons not deleted). Kept by
    database triggers on attendance and on a person's deletion (migration 0010_event_named) in the
    writing transaction, whatever writes them: the event lists read it instead of counting the
    attendance of every event listed."""

    event_id: int = Field(primary_key=True)  # no foreign key: a row may outlive its event, at 0
    named: int = Field(default=0)


class Meeting(Versioned, SoftDeleted, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=120)
    kind: str = Field(max_length=24)  # domain.MeetingKind
    held_at: LocalDateTime = Field(index=True)
    place: str = Field(default="", max_length=120)
    status: str = Field(default="planned", max_length=12)  # domain.MeetingStatus
    attendees: str = Field(default="", sa_type=Text)  # one name per line
    quorum: int = Field(default=0)
    quorum_met: bool | None = None
    minutes: str = Field(default="", sa_type=Text)  # Markdown, written when the meeting is closed
    language: str = Field(default="zh-CN", max_length=8)  # of its minutes: i18n.LANGUAGES
    invited: str = Field(default="", sa_type=Text)  # one name per line, as planned; absent = invited - attendees
    chair: str = Field(default="", max_length=40)  # 主持人
    recorder: str = Field(default="", max_length=40)  # 记录人


class AgendaItem(Versioned, table=True):
    __table_args__ = (Index("ix_agenda_meeting_position", "meeting_id", "position"),)
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id")
    position: int = Field(default=0)
    issue_id: int | None = Field(default=None, foreign_key="issue.id", index=True)
    topic: str = Field(default="", max_length=200)  # free topic when there is no issue
    decision: str | None = Field(default=None, max_length=12)  # domain.Decision
    decision_note: str = Field(default="", max_length=1000)
    votes_for: int = Field(default=0)
    votes_against: int = Field(default=0)
    votes_abstain: int = Field(default=0)
    lead_org_id: int | None = Field(default=None, foreign_key="organisation.id")
    due_date: date | None = None
    merged_into_id: int | None = Field(default=None, foreign_key="issue.id")
    deferred_at_close: bool = Field(default=False)  # not reached: deferred when the meeting closed


class AgendaItemCooperator(SQLModel, table=True):
    """Organisations a meeting named to co-operate with the lead one on an approved item."""

    agenda_item_id: int = Field(foreign_key="agendaitem.id", primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True)


class User(Versioned, SoftDeleted, table=True):
    """An account. Passwords are argon2 hashes; `role` is a permissions.Role value."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=40, unique=True)
    display_name: str = Field(max_length=40)
    password_hash: str = Field(max_length=200)
    role: str = Field(max_length=16)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    oidc_subject: str | None = Field(default=None, max_length=200, unique=True)
    active: bool = Field(default=True)
    created_at: LocalDateTime = Field(default_factory=now)


class UserGrid(SQLModel, table=True):
    """The grids a grid leader is responsible for."""

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    grid_id: int = Field(foreign_key="area.id", primary_key=True)


class UserPreference(SQLModel, table=True):
    """What an account chose last, to open on next time: the grid of the page filter (None: all
    grids). Not a field of User, whose version guards the admin's edits of the account."""

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    grid_id: int | None = Field(default=None, foreign_key="area.id")
    updated_at: LocalDateTime = Field(default_factory=now)


class LoginAttempt(SQLModel, table=True):
    __table_args__ = (Index("ix_loginattempt_username_at", "username", "at"),
                      Index("ix_loginattempt_address_at", "address", "at"))
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=40)
    address: str = Field(max_length=64)
    succeeded: bool
    at: LocalDateTime = Field(default_factory=now)


class LoginSession(SQLModel, table=True):
    """A sign-in: the browser holds a random token in an HttpOnly cookie, the database only its
    SHA-256 hash (gongzhi.sessions). `ended_at`/`end_reason` say when and why it stopped counting."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: LocalDateTime = Field(default_factory=now)
    last_seen_at: LocalDateTime = Field(default_factory=now)
    address: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=200)
    ended_at: LocalDateTime | None = Field(default=None)
    end_reason: str | None = Field(default=None, max_length=24)  # sessions.EndReason


class DisplayLink(SQLModel, table=True):
    """A link for a screen in the meeting room: opens the slideshow, or the live meeting, read-only
    as the public role (`view`: gongzhi.sessions.DisplayView). Only the SHA-256 hash of its token
    is kept."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    label: str = Field(default="", max_length=80)
    view: str = Field(default="slideshow", max_length=16)  # sessions.DisplayView
    created_by: int = Field(foreign_key="user.id")
    created_at: LocalDateTime = Field(default_factory=now)
    expires_at: LocalDateTime
    revoked_at: LocalDateTime | None = Field(default=None)
    last_used_at: LocalDateTime | None = Field(default=None)


class ApiKey(SQLModel, table=True):
    """A key with which another system (a mobile app speaking Open311) may POST service requests.
    An admin issues and revokes it (gongzhi.api_keys); only the SHA-256 hash of the key is kept."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    label: str = Field(default="", max_length=80)  # who uses it, e.g. the app's name
    created_by: int = Field(foreign_key="user.id")
    created_at: LocalDateTime = Field(default_factory=now)
    revoked_at: LocalDateTime | None = Field(default=None)
    last_used_at: LocalDateTime | None = Field(default=None)


class AuditEntry(SQLModel, table=True):
    """Who changed which record when, with the values before and after (JSON)."""

    __table_args__ = (Index("ix_audit_record", "table_name", "record_id"),)
    id: int | None = Field(default=None, primary_key=True)
    at: LocalDateTime = Field(default_factory=now, index=True)
    actor: str = Field(max_length=40, index=True)
    actor_role: str = Field(max_length=16)
    table_name: str = Field(max_length=40)
    record_id: str = Field(max_length=80)
    action: str = Field(max_length=12)  # insert | update | delete | soft_delete | restore
    before: str | None = Field(default=None, sa_type=Text)
    after: str | None = Field(default=None, sa_type=Text)


class ResidentReport(SQLModel, table=True):
    """A resident's own report (居民提事 from the grid's QR code or Open311): the issue it made, how
    its reporter follows it (a short tracking code for the status; a private link whose token only
    the SHA-256 hash of is kept) and the screening by the grid leader (gongzhi.resident_reports).
    `phone` (normalised +86…) only with the resident's consent, for follow-up on this issue."""

    __table_args__ = (Index("ix_residentreport_address_at", "client_address", "created_at"),
                      Index("ix_residentreport_phone_at", "phone", "created_at"))
    id: int | None = Field(default=None, primary_key=True)
    issue_id: int = Field(foreign_key="issue.id", unique=True)
    tracking_code: str = Field(max_length=12, unique=True)
    token_hash: str = Field(max_length=64, unique=True)
    phone: str | None = Field(default=None, max_length=20)
    consent_at: LocalDateTime | None = None
    client_address: str = Field(default="", max_length=64)
    created_at: LocalDateTime = Field(default_factory=now)
    screened_at: LocalDateTime | None = None
    screened_by: str | None = Field(default=None, max_length=40)
    outcome: str | None = Field(default=None, max_length=12)  # resident_reports.Outcome


class ResidentPhoto(SQLModel, table=True):
    """A photo sent with a resident's report, as re-encoded (JPEG, no EXIF): never the upload itself."""

    id: int | None = Field(default=None, primary_key=True)
    issue_id: int = Field(foreign_key="issue.id", index=True)
    position: int = Field(default=0)
    media_type: str = Field(default="image/jpeg", max_length=40)
    width: int
    height: int
    content: bytes = Field(sa_type=LargeBinary)
    created_at: LocalDateTime = Field(default_factory=now)


class IssueSupport(SQLModel, table=True):
    """A resident's "me too" on an open issue (counted as residents affected, never named): one
    per client address and issue."""

    __table_args__ = (UniqueConstraint("issue_id", "client_address"),
                      Index("ix_issuesupport_address_at", "client_address", "created_at"))
    id: int | None = Field(default=None, primary_key=True)
    issue_id: int = Field(foreign_key="issue.id", index=True)
    client_address: str = Field(max_length=64)
    created_at: LocalDateTime = Field(default_factory=now)


# Tables the database keeps from others by triggers (summary: the tables it summarises, the first
# giving its kind of data): never written by the app, never copied. A query declaring a summary
# reads its sources too (gongzhi.revisions.reads), so a write to any of them moves its key.
SUMMARY_TABLES = {VolunteerHours.__tablename__: (ServiceRecord.__tablename__,),
                  EventNamed.__tablename__: (Attendance.__tablename__, Person.__tablename__)}
