"""The overview page in the real app (AppTest), on a small hand-built community, on the demo and
on an empty database, in both languages: every headline card shows what the core's headline
queries compute for the same period (the default: the last 12 months; "this month" for the
month cards), deltas compare with the previous period of equal length, and the needs-attention
list starts with the most overdue issue (found here with a separate query)."""

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from components.filters import Period, period_bounds
from components.kpi import format_number, format_percent
from gongzhi import i18n
from gongzhi.clock import today
from gongzhi.db import get_engine, write_session
from gongzhi.domain import OPEN_STATES
from gongzhi.models import Area, Attendance, Event, Issue, Person, Rating, ServiceRecord, Volunteer
from gongzhi.queries.events import event_headline
from gongzhi.queries.issues import issue_headline
from gongzhi.queries.service_levels import first_response_headline
from gongzhi.queries.volunteers import volunteer_headline
from tests.gongzhi.test_first_response import NOW as FIRST_RESPONSE_NOW
from tests.gongzhi.test_first_response import build_community
from tests.gongzhi.test_first_response import expected as first_response_expected

PAGE = "views/overview.py"


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour))


@pytest.fixture
def small_url(db_url):
    """Two grids; two overdue open issues (the older one 40 days late), one open on time, two
    resolved this period (one inside the grid), ratings 5 and 2; an event this month with two
    named residents and a headcount of 10; one active volunteer with 6 hours this month."""
    day = today()
    with write_session(get_engine(db_url)) as session:
        grid_a = Area(code="G1", name="一网格", level="grid", population=200)
        grid_b = Area(code="G2", name="二网格", level="grid", population=100)
        session.add_all([grid_a, grid_b])
        session.flush()
        session.add_all([
            Issue(title="楼道堆物长期未清", category="sanitation", grid_id=grid_a.id, state="in_action",
                  reported_at=_at(day - timedelta(days=60)), due_date=day - timedelta(days=40)),
            Issue(title="路灯不亮", category="repairs", grid_id=grid_b.id, state="grid_review",
                  reported_at=_at(day - timedelta(days=20)), due_date=day - timedelta(days=5)),
            Issue(title="广场舞噪音", category="noise", grid_id=grid_b.id, state="meeting",
                  reported_at=_at(day - timedelta(days=3)), due_date=day + timedelta(days=11)),
        ])
        fixed = Issue(title="充电桩线路老化", category="ev_charging", grid_id=grid_a.id, state="closed",
                      reported_at=_at(day - timedelta(days=30)), resolved_at=_at(day - timedelta(days=26)),
                      due_date=day - timedelta(days=23), days_to_resolve=4.0, resolved_on_time=True,
                      resolved_in_grid=True, rating=5)
        late = Issue(title="停车位纠纷", category="parking", grid_id=grid_a.id, state="closed",
                     reported_at=_at(day - timedelta(days=50)), resolved_at=_at(day - timedelta(days=10)),
                     due_date=day - timedelta(days=29), days_to_resolve=40.0, resolved_on_time=False,
                     resolved_in_grid=False, went_to_meeting=True, rating=2)
        session.add_all([fixed, late])
        session.flush()
        session.add_all([Rating(issue_id=fixed.id, rating=5, fix_status="fixed", rated_by="居民",
                                created_at=_at(day - timedelta(days=20))),
                         Rating(issue_id=late.id, rating=2, fix_status="partly_fixed", rated_by="居民",
                                created_at=_at(day - timedelta(days=5)))])
        people = [Person(name=name, grid_id=grid_a.id) for name in ("王芳", "李明")]
        session.add_all(people)
        session.flush()
        event = Event(title="邻里节", kind="festival", grid_id=grid_a.id, starts_at=_at(day.replace(day=1), 9),
                      ends_at=_at(day.replace(day=1), 11), headcount=10)
        session.add(event)
        session.flush()
        session.add_all([Attendance(event_id=event.id, person_id=p.id) for p in people])
        volunteer = Volunteer(person_id=people[0].id, grid_id=grid_a.id, status="active")
        session.add(volunteer)
        session.flush()
        session.add(ServiceRecord(volunteer_id=volunteer.id, served_on=day.replace(day=1), hours=6.0))
    return db_url


def _previous(period: Period) -> Period:
    length = period.end - period.start
    end = period.start - timedelta(days=1)
    return Period(end - length, end)


def _expected(url: str, lang: str) -> tuple[dict[str, str], dict[str, str | None]]:
    """(label -> value, label -> delta) straight from the core's headline queries."""
    period = period_bounds("period_12m", on=today())
    month = period_bounds("period_month", on=today())
    before = _previous(period)
    # the month so far against the same days of last month (at most to that month's last day)
    last_month_end = month.start - timedelta(days=1)
    month_before = Period(last_month_end.replace(day=1), last_month_end.replace(day=min(month.end.day,
                                                                                         last_month_end.day)))
    with Session(get_engine(url)) as session:
        issues = issue_headline(session=session, start=period.start, end=period.end)
        issues_before = issue_headline(session=session, start=before.start, end=before.end)
        events = event_headline(session=session, start=period.start, end=period.end)
        events_before = event_headline(session=session, start=before.start, end=before.end)
        month_events = event_headline(session=session, start=month.start, end=month.end)
        month_events_before = event_headline(session=session, start=month_before.start, end=month_before.end)
        volunteers = volunteer_headline(session=session, start=month.start, end=month.end)
        first_response = first_response_headline(session=session, start=period.start, end=period.end)

    def label(key):
        return i18n.translate(lang, f"overview.kpi_{key}")

    values = {
        label("open_issues"): format_number(issues.open_issues),
        label("overdue"): format_number(issues.overdue),
        label("median_days"): format_number(issues.median_days_to_resolve, digits=1),
        label("resolved_in_grid"): format_percent(issues.share_resolved_in_grid),
        label("mean_rating"): format_number(issues.mean_rating, digits=1),
        label("satisfied"): format_percent(issues.share_satisfied),
        label("on_time"): format_percent(issues.on_time_share),
        label("participation"): format_percent(events.participation_rate, digits=1),
        label("active_volunteers"): format_number(volunteers.active_volunteers),
        label("service_hours"): format_number(volunteers.service_hours),
        label("events"): format_number(month_events.events),
        label("attendance"): format_number(month_events.named_attendance + month_events.headcount),
        label("first_response_on_time"): format_percent(first_response.on_time_share),
        label("first_responses"): format_number(first_response.responded),
        label("waiting_late"): format_number(first_response.waiting_late),
    }
    month_attendance = month_events.named_attendance + month_events.headcount
    attendance_before = month_events_before.named_attendance + month_events_before.headcount
    deltas = {
        label("open_issues"): None,  # a snapshot of today has no earlier period
        label("on_time"): None,  # counts issues overdue today, so it has no earlier period either
        label("first_response_on_time"): None,  # the same: it counts issues waiting late today
        label("events"): f"{month_events.events - month_events_before.events:+,}",
        label("attendance"): f"{month_attendance - attendance_before:+,}",
        label("mean_rating"): (None if issues.mean_rating is None or issues_before.mean_rating is None
                               else f"{issues.mean_rating - issues_before.mean_rating:+,.1f}"),
        label("participation"): (
            # no delta against a previous period without any event: it is no baseline
            None if events.participation_rate is None or events_before.participation_rate is None
            or events_before.events == 0 else i18n.translate(lang, "overview.delta_points",
                                value=f"{(events.participation_rate - events_before.participation_rate) * 100:+.1f}")),
    }
    return values, deltas


def _most_overdue_title(url: str) -> str | None:
    with Session(get_engine(url)) as session:
        row = session.execute(
            select(Issue.title).where(Issue.deleted_at.is_(None), Issue.state.in_([s.value for s in OPEN_STATES]),
                                      Issue.due_date < today())
            .order_by(Issue.due_date, Issue.id).limit(1)
        ).first()
    return row[0] if row else None


def _check_cards(app, url, lang):
    assert not app.exception, [e.value for e in app.exception]
    shown = {metric.label: metric.value for metric in app.metric}
    shown_deltas = {metric.label: metric.delta for metric in app.metric}
    values, deltas = _expected(url, lang)
    assert shown == values
    for label, delta in deltas.items():
        assert (shown_deltas[label] or None) == delta, label


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_cards_match_the_core_on_a_small_community(open_page, small_url, lang):
    app = open_page(small_url, PAGE, lang=lang)
    _check_cards(app, small_url, lang)
    shown = {metric.label: metric.value for metric in app.metric}

    def label(key):
        return i18n.translate(lang, f"overview.kpi_{key}")

    # and against the fixture itself: 3 open, 2 overdue, medians of 4 and 40 days, 1 of 2 in the grid,
    # ratings 5 and 2, 2 of 300 residents took part, 2 named + 10 anonymous this month, 6 hours
    assert (shown[label("open_issues")], shown[label("overdue")]) == ("3", "2")
    assert shown[label("median_days")] == "22.0"
    assert shown[label("resolved_in_grid")] == "50%"
    assert (shown[label("mean_rating")], shown[label("satisfied")]) == ("3.5", "50%")
    assert shown[label("on_time")] == "25%"  # 1 on time / (2 resolved + 2 overdue)
    assert shown[label("participation")] == "0.7%"
    assert (shown[label("events")], shown[label("attendance")], shown[label("service_hours")]) == ("1", "12", "6")


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_attention_list_starts_with_the_most_overdue_issue(open_page, small_url, lang):
    app = open_page(small_url, PAGE, lang=lang)
    column = i18n.translate(lang, "overview.col_issue")
    overdue_table = next(frame.value for frame in app.dataframe
                         if i18n.translate(lang, "overview.col_days_overdue") in frame.value.columns)
    assert _most_overdue_title(small_url) == "楼道堆物长期未清"
    assert "楼道堆物长期未清" in overdue_table[column].iloc[0]
    assert list(overdue_table[i18n.translate(lang, "overview.col_days_overdue")]) == [40, 5]
    # the issue in state `meeting` waits for one
    awaiting = next(frame.value for frame in app.dataframe
                    if i18n.translate(lang, "overview.col_on_agenda") in frame.value.columns)
    assert list(awaiting[column]) == [i18n.translate(lang, "overview.issue_ref", id=3, title="广场舞噪音")]


def test_grid_filter_narrows_the_cards(open_page, small_url):
    app = open_page(small_url, PAGE, lang="en")
    with Session(get_engine(small_url)) as session:
        grid_b = session.execute(select(Area.id).where(Area.code == "G2")).scalar_one()
    app.selectbox(key="_grid_widget").select(grid_b).run()
    assert not app.exception
    shown = {metric.label: metric.value for metric in app.metric}
    assert (shown["Open issues"], shown["Overdue"]) == ("2", "1")
    overdue_table = next(frame.value for frame in app.dataframe if "Days overdue" in frame.value.columns)
    assert list(overdue_table["Issue"]) == ["#2 路灯不亮"]


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_cards_match_the_core_on_the_demo(open_page, demo_url, lang):
    app = open_page(demo_url, PAGE, lang=lang)
    _check_cards(app, demo_url, lang)
    title = _most_overdue_title(demo_url)
    if title is not None:
        overdue_table = next(frame.value for frame in app.dataframe
                             if i18n.translate(lang, "overview.col_days_overdue") in frame.value.columns)
        assert title in overdue_table[i18n.translate(lang, "overview.col_issue")].iloc[0]


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_empty_database(open_page, db_url, lang):
    app = open_page(db_url, PAGE, lang=lang)
    _check_cards(app, db_url, lang)
    assert i18n.translate(lang, "common.empty_database") in [info.value for info in app.info]
    assert i18n.translate(lang, "overview.none_overdue") in [s.value for s in app.success]


@pytest.fixture
def community(db_url):
    return build_community(db_url)


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_first_response_per_category_on_the_page_matches_an_independent_count(open_page, community, monkeypatch,
                                                                               lang):
    """At a fixed clock, the first-response table shows per category what a count over the rows
    gives (tests/gongzhi/test_first_response.py), and the card its overall share."""
    url, _ = community
    monkeypatch.setenv("GONGZHI_NOW", FIRST_RESPONSE_NOW.isoformat())
    app = open_page(url, PAGE, lang=lang)
    assert not app.exception, [e.value for e in app.exception]
    period = period_bounds("period_12m", on=FIRST_RESPONSE_NOW.date())
    counts = first_response_expected(url, period.start, period.end, FIRST_RESPONSE_NOW.date())

    def t(key):
        return i18n.translate(lang, f"overview.{key}")

    table = next(frame.value for frame in app.dataframe if t("col_response_days") in frame.value.columns)
    shown = {row[t("col_category")]: (row[t("col_first_responses")], row[t("col_responded_on_time")],
                                      row[t("col_waiting_late")], row[t("col_first_response_on_time")])
             for _, row in table.iterrows()}
    assert shown == {i18n.label(lang, "category", code): (responded, on_time, late,
                                                          format_percent(on_time / (responded + late))
                                                          if responded + late else "—")
                     for code, (responded, on_time, late) in counts.items()}
    responded, on_time, late = (sum(v[i] for v in counts.values()) for i in range(3))
    cards = {metric.label: metric.value for metric in app.metric}
    assert cards[t("kpi_first_response_on_time")] == format_percent(on_time / (responded + late))
    assert (cards[t("kpi_first_responses")], cards[t("kpi_waiting_late")]) == (str(responded), str(late))
    assert (responded, on_time, late) == (6, 3, 3)  # the fixture's issues, over the last 12 months


@pytest.mark.parametrize(("day", "colour"), [(6, "off"), (20, "normal")])
def test_this_month_against_the_same_days_of_last_month(open_page, db_url, day, colour):
    """On 6 December the month's events are compared with 1–6 November, shown grey (too early to
    read as a fall); on 20 December with 1–20 November, as a fall. The heading says so."""
    from gongzhi.clock import frozen

    with write_session(get_engine(db_url)) as session:
        grid = Area(code="G1", name="一网格", level="grid", population=100)
        session.add(grid)
        session.flush()
        for when in (date(2026, 11, 3), date(2026, 11, 5), date(2026, 11, 18), date(2026, 11, 28),
                     date(2026, 12, 2)):
            session.add(Event(title="活动", kind="festival", grid_id=grid.id, starts_at=_at(when, 9),
                              ends_at=_at(when, 11), headcount=5))
    with frozen(datetime(2026, 12, day, 12)):
        app = open_page(db_url, "views/overview.py", lang="en")
        assert not app.exception, [e.value for e in app.exception]
        card = next(m for m in app.metric if m.label == i18n.translate("en", "overview.kpi_events"))
    before = {6: 2, 20: 3}[day]  # 3 and 5 November; then 18 November too (28 November is after the 20th)
    assert (card.value, card.delta) == ("1", f"{1 - before:+,}")
    # Metric colours: 0 red (a fall, read as bad news), 2 grey
    assert card.proto.color == (2 if colour == "off" else 0)
    span = i18n.translate("en", "overview.span", start="2026-11-01", end=f"2026-11-{day:02d}")
    shown = " ".join(c.value for c in app.caption)
    assert i18n.translate("en", "overview.month_compared", span=span) in shown
    assert (i18n.translate("en", "overview.month_too_early", days=7) in shown) is (colour == "off")
