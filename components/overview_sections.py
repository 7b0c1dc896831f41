"""The overview page's sections: headline cards with their change against the previous period
of equal length, the needs-attention lists, and a few trend charts. Every figure comes from the
core's headline and trend queries, so the overview and the detail pages always agree."""

from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
import streamlit as st

from components.charts import bar_chart, line_chart, lowest_grids
from components.data import query
from components.filters import Period, period_bounds
from components.kpi import Kpi, format_number, format_percent, kpi_row
from components.page_setup import PageContext
from components.projector import paged_table
from gongzhi import periods
from gongzhi.clock import today
from gongzhi.queries.events import EventHeadline, event_headline, monthly_participation, participation_by_grid
from gongzhi.queries.issues import (
    IssueHeadline,
    issue_headline,
    monthly_issue_trend,
    open_by_state,
    overdue_issues,
)
from gongzhi.queries.meetings import issues_awaiting_meeting
from gongzhi.queries.service_levels import first_response_by_category, first_response_headline
from gongzhi.queries.volunteers import VolunteerHeadline, monthly_hours, volunteer_headline

LOW_PARTICIPATION = 0.05  # grids below this share of residents taking part need attention
ATTENTION_ROWS = 10
LOW_PARTICIPATION_ROWS = 5


def previous_period(period: Period) -> Period:
    """The period of equal length that ends the day before `period` starts."""
    days = (period.end - period.start).days + 1
    end = period.start - timedelta(days=1)
    return Period(end - timedelta(days=days - 1), end)


def this_month() -> Period:
    return period_bounds("period_month", on=today())


def same_days_last_month(month: Period) -> Period:
    """What the month so far is compared with (gongzhi.periods): the same days of last month."""
    return Period(*periods.same_days_last_month(month.end))


@dataclass(frozen=True)
class Headlines:
    """The overview's figures for the chosen period and grid (and this month), each with the
    same figures for the previous period of equal length."""

    period: Period
    before: Period
    month: Period
    month_before: Period
    issues: IssueHeadline
    issues_before: IssueHeadline
    events: EventHeadline
    events_before: EventHeadline
    month_events: EventHeadline
    month_events_before: EventHeadline
    month_volunteers: VolunteerHeadline
    month_volunteers_before: VolunteerHeadline


def load_headlines(period: Period, grid_id: int | None) -> Headlines:
    before, month = previous_period(period), this_month()
    month_before = same_days_last_month(month)

    def over(function, span: Period):
        return query(function, start=span.start, end=span.end, grid_id=grid_id)

    return Headlines(
        period=period, before=before, month=month, month_before=month_before,
        issues=over(issue_headline, period), issues_before=over(issue_headline, before),
        events=over(event_headline, period), events_before=over(event_headline, before),
        month_events=over(event_headline, month), month_events_before=over(event_headline, month_before),
        month_volunteers=over(volunteer_headline, month), month_volunteers_before=over(volunteer_headline, month_before),
    )


def _difference(current: float | None, previous: float | None) -> float | None:
    if current is None or previous is None:
        return None
    return current - previous


def _card(label: str, value: str, difference: float | None, delta_text: str | None, *, help: str,
          rise_is_bad: bool = False, neutral: bool = False) -> Kpi:
    """A card whose delta arrow follows the sign of `difference`; no change, or a change that
    cannot be read as a rise or a fall yet (`neutral`), is shown grey."""
    if difference is None:
        return Kpi(label, value, help=help)
    colour = "off" if neutral or round(difference, 6) == 0 else "inverse" if rise_is_bad else "normal"
    return Kpi(label, value, delta=delta_text, help=help, delta_color=colour)


def _count_card(label: str, current: float | None, previous: float | None, *, help: str, digits: int = 0,
                rise_is_bad: bool = False, neutral: bool = False) -> Kpi:
    difference = _difference(current, previous)
    return _card(label, format_number(current, digits=digits), difference,
                 None if difference is None else f"{difference:+,.{digits}f}", help=help, rise_is_bad=rise_is_bad,
                 neutral=neutral)


def _share_card(ctx: PageContext, label: str, current: float | None, previous: float | None, *, help: str,
                digits: int = 0) -> Kpi:
    difference = _difference(current, previous)
    text = None if difference is None else ctx.t("overview.delta_points", value=f"{difference * 100:+.1f}")
    return _card(label, format_percent(current, digits=digits), difference, text, help=help)


def _span(ctx: PageContext, span: Period) -> str:
    return ctx.t("overview.span", start=span.start.isoformat(), end=span.end.isoformat())


def headline_cards(ctx: PageContext, figures: Headlines) -> None:
    """Three rows of big cards: issues, satisfaction and participation in the period, and this
    month's volunteering and events. Snapshot figures (open, overdue, active) have no delta."""
    issues, before = figures.issues, figures.issues_before
    versus = ctx.t("overview.help_versus", span=_span(ctx, figures.before))
    month_versus = ctx.t("overview.help_versus_month", span=_span(ctx, figures.month_before))
    early = not periods.month_comparable(figures.month.end)  # no rise or fall read into a few days
    now = ctx.t("overview.help_now")

    st.subheader(ctx.t("overview.section_issues"))
    kpi_row([
        Kpi(ctx.t("overview.kpi_open_issues"), format_number(issues.open_issues), help=now),
        Kpi(ctx.t("overview.kpi_overdue"), format_number(issues.overdue), help=now),
        _count_card(ctx.t("overview.kpi_median_days"), issues.median_days_to_resolve,
                    before.median_days_to_resolve, digits=1, help=versus, rise_is_bad=True),
        _share_card(ctx, ctx.t("overview.kpi_resolved_in_grid"), issues.share_resolved_in_grid,
                    before.share_resolved_in_grid, help=ctx.t("overview.help_resolved_in_grid") + " " + versus),
    ])
    st.subheader(ctx.t("overview.section_satisfaction"))
    kpi_row([
        _count_card(ctx.t("overview.kpi_mean_rating"), issues.mean_rating, before.mean_rating, digits=1,
                    help=versus),
        _share_card(ctx, ctx.t("overview.kpi_satisfied"), issues.share_satisfied, before.share_satisfied,
                    help=versus),
        # No delta: its denominator counts the issues overdue today, which an earlier period cannot.
        Kpi(ctx.t("overview.kpi_on_time"), format_percent(issues.on_time_share), help=ctx.t("overview.help_on_time")),
        # A previous period without any event (e.g. before the records start) is no baseline.
        _share_card(ctx, ctx.t("overview.kpi_participation"), figures.events.participation_rate,
                    figures.events_before.participation_rate if figures.events_before.events else None, digits=1,
                    help=ctx.t("overview.help_participation") + " " + versus),
    ])
    st.subheader(ctx.t("overview.section_month", span=_span(ctx, figures.month)))
    st.caption(ctx.t("overview.month_compared", span=_span(ctx, figures.month_before))
               + (" " + ctx.t("overview.month_too_early", days=periods.MIN_DAYS_TO_COMPARE) if early else ""))
    volunteers, volunteers_before = figures.month_volunteers, figures.month_volunteers_before
    events, events_before = figures.month_events, figures.month_events_before
    kpi_row([
        Kpi(ctx.t("overview.kpi_active_volunteers"), format_number(volunteers.active_volunteers), help=now),
        _count_card(ctx.t("overview.kpi_service_hours"), volunteers.service_hours,
                    volunteers_before.service_hours, help=month_versus, neutral=early),
        _count_card(ctx.t("overview.kpi_events"), events.events, events_before.events, help=month_versus,
                    neutral=early),
        _count_card(ctx.t("overview.kpi_attendance"), events.named_attendance + events.headcount,
                    events_before.named_attendance + events_before.headcount,
                    help=ctx.t("overview.help_attendance") + " " + month_versus, neutral=early),
    ])


# --- service levels -------------------------------------------------------------------------

def _percent_or_dash(value) -> str:
    return format_percent(None if value is None or pd.isna(value) else float(value))


def first_response_section(ctx: PageContext, period: Period, grid_id: int | None) -> None:
    """The first-response service level over the period: headline figures, then per category
    (all of them, in the domain's order) the response days and how many answers came on time."""
    st.subheader(ctx.t("overview.first_response_heading"))
    headline = query(first_response_headline, start=period.start, end=period.end, grid_id=grid_id)
    kpi_row([
        # No delta, like resolution on time: its denominator counts the issues waiting late today.
        Kpi(ctx.t("overview.kpi_first_response_on_time"), format_percent(headline.on_time_share),
            help=ctx.t("overview.help_first_response_on_time")),
        Kpi(ctx.t("overview.kpi_first_responses"), format_number(headline.responded),
            help=_span(ctx, period)),
        Kpi(ctx.t("overview.kpi_waiting_late"), format_number(headline.waiting_late), help=ctx.t("overview.help_now")),
    ])
    st.caption(ctx.t("overview.first_response_caption"))
    by_category = query(first_response_by_category, start=period.start, end=period.end, grid_id=grid_id)
    st.markdown(f"**{ctx.t('overview.first_response_by_category')}**")
    category, share_column = ctx.t("overview.col_category"), ctx.t("overview.col_first_response_on_time")
    paged_table(ctx, pd.DataFrame({
        category: [ctx.label("category", code) for code in by_category["category"]],
        ctx.t("overview.col_response_days"): by_category["response_days"].astype(int),
        ctx.t("overview.col_first_responses"): by_category["responded"].astype(int),
        ctx.t("overview.col_responded_on_time"): by_category["on_time"].astype(int),
        ctx.t("overview.col_waiting_late"): by_category["waiting_late"].astype(int),
        share_column: [_percent_or_dash(v) for v in by_category["on_time_share"]],
    }), key="overview_first_response", columns=[category, share_column])


# --- needs attention --------------------------------------------------------------------------

def low_participation(frame: pd.DataFrame, *, grid_id: int | None) -> pd.DataFrame:
    """Grids (or the chosen grid) whose participation rate is below LOW_PARTICIPATION, lowest first."""
    rated = frame[frame["rate"].notna()]
    if grid_id is not None:
        rated = rated[rated["grid_id"] == grid_id]
    low = rated[rated["rate"] < LOW_PARTICIPATION]
    return low.sort_values(["rate", "grid_name"], kind="stable").head(LOW_PARTICIPATION_ROWS)


def attention_section(ctx: PageContext, figures: Headlines, grid_id: int | None) -> None:
    """What the committee should look at first: overdue issues, grids where few residents take
    part, and issues waiting for a meeting."""
    st.header(ctx.t("overview.attention_heading"))
    overdue = query(overdue_issues, grid_id=grid_id, limit=ATTENTION_ROWS)
    st.subheader(ctx.t("overview.overdue_heading", count=figures.issues.overdue))
    if overdue.empty:
        st.success(ctx.t("overview.none_overdue"))
    else:
        paged_table(ctx, pd.DataFrame({
            ctx.t("overview.col_issue"): [ctx.plain("overview.issue_ref", id=int(r.id), title=r.title)
                                          for r in overdue.itertuples()],
            ctx.t("overview.col_grid"): overdue["grid_name"],
            ctx.t("overview.col_state"): [ctx.label("state", s) for s in overdue["state"]],
            ctx.t("overview.col_due_date"): [d.isoformat() for d in overdue["due_date"]],
            ctx.t("overview.col_days_overdue"): overdue["days_overdue"].astype(int),
        }), key="overview_overdue")

    left, right = st.columns(2)
    with left:
        st.subheader(ctx.t("overview.low_participation_heading", threshold=format_percent(LOW_PARTICIPATION)))
        grids = low_participation(query(participation_by_grid, start=figures.period.start, end=figures.period.end),
                                  grid_id=grid_id)
        if grids.empty:
            st.success(ctx.t("overview.none_low_participation"))
        else:
            paged_table(ctx, pd.DataFrame({
                ctx.t("overview.col_grid"): grids["grid_name"],
                ctx.t("overview.col_population"): grids["population"].astype(int),
                ctx.t("overview.col_participants"): grids["participants"].astype(int),
                ctx.t("overview.col_rate"): [format_percent(r, digits=1) for r in grids["rate"]],
            }), key="overview_low_participation")
    with right:
        awaiting = query(issues_awaiting_meeting, grid_id=grid_id)
        st.subheader(ctx.t("overview.awaiting_heading", count=len(awaiting)))
        if awaiting.empty:
            st.success(ctx.t("overview.none_awaiting"))
        else:
            shown = awaiting.head(ATTENTION_ROWS)
            paged_table(ctx, pd.DataFrame({
                ctx.t("overview.col_issue"): [ctx.plain("overview.issue_ref", id=int(r.id), title=r.title)
                                              for r in shown.itertuples()],
                ctx.t("overview.col_grid"): shown["grid_name"],
                ctx.t("overview.col_on_agenda"): [ctx.t("common.yes") if not pd.isna(m) else ctx.t("common.no")
                                                  for m in shown["planned_meeting_id"]],
            }), key="overview_awaiting")


# --- trends -----------------------------------------------------------------------------------

def _nothing_to_chart(ctx: PageContext, frame: pd.DataFrame, columns: list[str]) -> bool:
    if frame.empty or float(frame[columns].sum().sum()) == 0:
        st.info(ctx.t("common.no_data"))
        return True
    return False


def trend_section(ctx: PageContext, period: Period, grid_id: int | None) -> None:
    """Five charts, each with few series and a one-sentence summary."""
    st.header(ctx.t("overview.trends_heading"))
    left, right = st.columns(2)
    with left:
        st.subheader(ctx.t("overview.chart_open_by_state"))
        by_state = query(open_by_state, grid_id=grid_id)
        if not _nothing_to_chart(ctx, by_state, ["count"]):
            labelled = by_state.assign(label=[ctx.label("state", s) for s in by_state["state"]])
            top = labelled.loc[labelled["count"].idxmax()]
            bar_chart(labelled, x="label", y="count", x_title=ctx.t("overview.axis_state"),
                      y_title=ctx.t("overview.axis_issues"), sort=list(labelled["label"]),
                      summary=ctx.plain("overview.summary_open_by_state", total=int(labelled["count"].sum()),
                                    state=top["label"], count=int(top["count"])))
    with right:
        st.subheader(ctx.t("overview.chart_issue_trend"))
        trend = query(monthly_issue_trend, start=period.start, end=period.end, grid_id=grid_id)
        if not _nothing_to_chart(ctx, trend, ["reported", "resolved"]):
            names = {"reported": ctx.t("overview.series_reported"), "resolved": ctx.t("overview.series_resolved")}
            long = trend.melt(id_vars="month", value_vars=list(names), var_name="series", value_name="issues")
            long["series"] = long["series"].map(names)
            line_chart(long, x="month", y="issues", series="series", x_title=ctx.t("overview.axis_month"),
                       y_title=ctx.t("overview.axis_issues"),
                       summary=ctx.plain("overview.summary_issue_trend", reported=int(trend["reported"].sum()),
                                     resolved=int(trend["resolved"].sum())))

    left, right = st.columns(2)
    with left:
        st.subheader(ctx.t("overview.chart_participation_by_grid"))
        by_grid = query(participation_by_grid, start=period.start, end=period.end)
        rated = by_grid[by_grid["rate"].notna()]
        if not _nothing_to_chart(ctx, rated, ["participants"]):
            rated = rated.assign(percent=(rated["rate"].astype(float) * 100).round(1))
            highest, lowest = rated.loc[rated["percent"].idxmax()], rated.loc[rated["percent"].idxmin()]
            shown, note = lowest_grids(rated, y="percent")
            summary = ctx.plain("overview.summary_participation_by_grid",
                            high=highest["grid_name"], high_rate=format_percent(highest["rate"], digits=1),
                            low=lowest["grid_name"], low_rate=format_percent(lowest["rate"], digits=1))
            bar_chart(shown, x="grid_name", y="percent", x_title=ctx.t("overview.axis_grid"),
                      y_title=ctx.t("overview.axis_participation"), horizontal=True, sort="-x", state_extremes=False,
                      summary=f"{summary} {note}".strip())
    with right:
        st.subheader(ctx.t("overview.chart_attendance"))
        participation = query(monthly_participation, start=period.start, end=period.end, grid_id=grid_id)
        if not _nothing_to_chart(ctx, participation, ["events", "attendance"]):
            bar_chart(participation, x="month", y="attendance", x_title=ctx.t("overview.axis_month"),
                      y_title=ctx.t("overview.axis_attendance"),
                      summary=ctx.plain("overview.summary_attendance", events=int(participation["events"].sum()),
                                    attendance=int(participation["attendance"].sum())))

    st.subheader(ctx.t("overview.chart_hours"))
    hours = query(monthly_hours, start=period.start, end=period.end, grid_id=grid_id)
    if not _nothing_to_chart(ctx, hours, ["hours"]):
        bar_chart(hours, x="month", y="hours", x_title=ctx.t("overview.axis_month"), y_title=ctx.t("overview.axis_hours"),
                  summary=ctx.plain("overview.summary_hours", hours=format_number(float(hours["hours"].sum()))))
