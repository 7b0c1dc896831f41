"""Fixed vocabularies of the domain: area levels, issue states and categories, organisation
and event kinds, volunteer star levels. Labels live in the i18n catalogues under these codes."""

from datetime import date, datetime, timedelta
from enum import StrEnum


class AreaLevel(StrEnum):
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"
    BUILDING = "building"
    UNIT = "unit"


AREA_LEVEL_ORDER = [AreaLevel.STREET, AreaLevel.COMMUNITY, AreaLevel.GRID, AreaLevel.BUILDING, AreaLevel.UNIT]


class IssueState(StrEnum):
    REPORTED = "reported"
    GRID_REVIEW = "grid_review"
    MEETING = "meeting"
    IN_ACTION = "in_action"
    RESIDENT_REVIEW = "resident_review"
    CLOSED = "closed"
    CLOSED_UNRATED = "closed_unrated"
    REJECTED = "rejected"


# States in loop order, for charts and filters.
ISSUE_STATE_ORDER = list(IssueState)
CLOSED_STATES = frozenset({IssueState.CLOSED, IssueState.CLOSED_UNRATED, IssueState.REJECTED})
OPEN_STATES = frozenset(set(IssueState) - CLOSED_STATES)
# "Resolved" = the action is done: the issue reached resident review (or beyond, except rejection).
RESOLVED_STATES = frozenset({IssueState.RESIDENT_REVIEW, IssueState.CLOSED, IssueState.CLOSED_UNRATED})


class RejectReason(StrEnum):
    NOT_RESPONSIBLE = "not_responsible"
    DUPLICATE = "duplicate"
    WITHDRAWN = "withdrawn"
    SPAM = "spam"  # a resident's report screened out: not a real issue


class IssueSource(StrEnum):
    """Who brought an issue in. Reports from residents themselves (the resident page, Open311) wait
    for a grid leader's screening (Issue.awaiting_screening) before anyone but staff sees them."""

    STAFF = "staff"
    RESIDENT = "resident"
    OPEN311 = "open311"
    IMPORT = "import"


class ScreeningOutcome(StrEnum):
    """What the grid leader decided on a resident's report (gongzhi.resident_reports)."""

    ACCEPTED = "accepted"  # into the loop
    MERGED = "merged"  # a duplicate of an open issue
    REJECTED = "rejected"  # spam, or not community business


# Outcomes that keep a resident's report out of every public list and figure for good.
SCREENED_OUT = frozenset({ScreeningOutcome.MERGED, ScreeningOutcome.REJECTED})


class FixStatus(StrEnum):
    FIXED = "fixed"
    PARTLY_FIXED = "partly_fixed"
    NOT_FIXED = "not_fixed"


# Category code -> (days to first response, days to resolution). Service levels a committee
# would commit to; an issue's due date defaults to reported + resolution days.
ISSUE_CATEGORIES: dict[str, tuple[int, int]] = {
    "noise": (2, 14),
    "parking": (2, 21),
    "ev_charging": (1, 7),
    "elderly_care": (2, 14),
    "repairs": (2, 14),
    "sanitation": (1, 7),
    "security": (1, 7),
    "child_care": (3, 30),
    "neighbour_dispute": (2, 21),
    "other": (3, 30),
}

FALLBACK_CATEGORY = "other"  # the service levels of an issue without a (known) category, e.g. a free topic


def service_levels(category: str | None) -> tuple[int, int]:
    """(days to first response, days to resolution) of a category; "other" for an unknown one."""
    return ISSUE_CATEGORIES.get(category or FALLBACK_CATEGORY, ISSUE_CATEGORIES[FALLBACK_CATEGORY])


def _day(on: date | datetime) -> date:
    return on.date() if isinstance(on, datetime) else on


def resolution_due(category: str | None, on: date | datetime) -> date:
    """The due date of an issue of `category` whose work starts `on` (reported, reopened or
    taken up by a meeting): that day plus the category's days to resolution. The one home of
    the default due date."""
    return _day(on) + timedelta(days=service_levels(category)[1])


def response_due(category: str | None, reported: date | datetime) -> date:
    """The last day on which a first response to an issue reported `reported` is on time."""
    return _day(reported) + timedelta(days=service_levels(category)[0])


RATING_WINDOW_DAYS = 14  # no rating after this many days in resident_review -> closed_unrated
SATISFIED_MIN_RATING = 4  # ratings 4 and 5 count as "satisfied"
REOPEN_MAX_RATING = 2  # rating <= 2 (or "not fixed") sends the issue back to in_action


class OrgKind(StrEnum):
    COMMITTEE = "committee"
    SOCIAL_ORG = "social_org"
    SOCIAL_WORK_AGENCY = "social_work_agency"
    FOUNDATION = "foundation"
    PROPERTY_MANAGER = "property_manager"
    GOVERNMENT = "government"
    VOLUNTEER_TEAM = "volunteer_team"
    CULTURE_SPORTS_TEAM = "culture_sports_team"


class VolunteerStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    LEFT = "left"


VOLUNTEER_SKILLS = [
    "first_aid", "elderly_care", "child_care", "tutoring", "repairs", "legal_aid",
    "mediation", "photography", "translation", "sports", "arts", "it_help",
]


class EventKind(StrEnum):
    VOLUNTEER_SERVICE = "volunteer_service"
    CULTURE_SPORTS = "culture_sports"
    ELDERLY_CARE = "elderly_care"
    CHILD_CARE = "child_care"
    SAFETY_TRAINING = "safety_training"
    DELIBERATION = "deliberation"
    FESTIVAL = "festival"
    HEALTH = "health"


class FacilityKind(StrEnum):
    """Public facilities the map can show as a layer."""

    SCHOOL = "school"
    LIBRARY = "library"
    CANTEEN = "canteen"  # 长者饭堂 / community canteen
    CHILD_CARE = "child_care"
    ELDERLY_CARE_STATION = "elderly_care_station"
    CLINIC = "clinic"


class MeetingKind(StrEnum):
    COMMITTEE = "committee"  # 居委会会议
    DELIBERATION = "deliberation"  # 议事会
    JOINT = "joint"  # 联席会议 (三社联动)
    RESIDENTS_CONGRESS = "residents_congress"  # 居民代表大会


class MeetingStatus(StrEnum):
    PLANNED = "planned"
    HELD = "held"


class Decision(StrEnum):
    APPROVE = "approve"  # approve and assign a lead organisation
    REJECT = "reject"
    DEFER = "defer"
    MERGE = "merge"


# Cumulative service hours -> star level (DOMAIN.md).
STAR_THRESHOLDS = [(5, 1500.0), (4, 1000.0), (3, 600.0), (2, 300.0), (1, 100.0)]


def star_level(hours: float) -> int:
    for stars, minimum in STAR_THRESHOLDS:
        if hours >= minimum:
            return stars
    return 0
