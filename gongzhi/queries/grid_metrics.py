"""What the grid map shows: each grid's figures (composed from the issue, event and volunteer
queries, so the map and the other pages always agree), the simplified shapes to draw, and the
panel of one grid."""

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlmodel import Session

from gongzhi.clock import today
from gongzhi.geo import combined_bounds, display_tolerance, label_point, parse_boundary, simplify_all_for_display
from gongzhi.parts import kept
from gongzhi.queries.areas import grid_boundaries, list_grids
from gongzhi.queries.events import participation_by_grid, upcoming_events
from gongzhi.queries.issues import OPEN_STATE_CODES, issue_headline, issues_by_grid, list_issues
from gongzhi.queries.volunteers import volunteers_by_grid
from gongzhi.revisions import reads

# The figures a grid can be coloured by, in the order the page offers them.
METRICS = ("open_issues", "overdue", "participation_rate", "volunteers_per_1000")
COLUMNS = ["grid_id", "code", "name", "population", "households", "leader", "open_issues", "overdue",
           "participation_rate", "volunteers_per_1000"]
PANEL_ISSUES = 5
PANEL_EVENTS = 5


@dataclass(frozen=True)
class GridShape:
    """A grid's boundary as the map draws it (simplified copy; the stored one is untouched)."""

    grid_id: int
    code: str
    name: str
    geometry: dict  # GeoJSON geometry, lon/lat
    label_lon: float
    label_lat: float


@dataclass(frozen=True)
class GridPanel:
    """One grid as the map's side panel shows it."""

    grid_id: int
    code: str
    name: str
    community: str | None
    leader: str | None
    leader_phone: str  # masked unless the viewer may see personal data
    population: int
    households: int
    open_issues: int
    overdue: int
    issues: pd.DataFrame  # its newest open issues: id, title, state, due_date, overdue
    events: pd.DataFrame  # upcoming events of the grid: id, title, kind, starts_at, place


@reads(list_grids, issues_by_grid, issue_headline, participation_by_grid, volunteers_by_grid, list_issues, upcoming_events, grid_boundaries)
def grid_metrics(*, session: Session, start: date, end: date) -> pd.DataFrame:
    """One row per grid (ordered by code) with COLUMNS. open_issues and overdue are the current
    snapshot; participation_rate is for [start, end] (NaN when the population is 0);
    volunteers_per_1000 = active volunteers per 1,000 residents (NaN when the population is 0)."""
    # The parts that did not change since the last time are kept (gongzhi.parts): after an
    # attendance tick only participation is counted again, and only in the community ticked.
    grids = kept(session, list_grids)[["id", "code", "name", "population", "households", "leader"]]
    grids = grids.rename(columns={"id": "grid_id"})
    issues = issues_by_grid(session=session, start=start, end=end)[["grid_id", "open_issues", "overdue"]]
    participation = participation_by_grid(session=session, start=start, end=end)[["grid_id", "rate"]]
    volunteers = kept(session, volunteers_by_grid)[["grid_id", "active_volunteers"]]
    frame = (grids.merge(issues, on="grid_id", how="left")
             .merge(participation.rename(columns={"rate": "participation_rate"}), on="grid_id", how="left")
             .merge(volunteers, on="grid_id", how="left"))
    for column in ("population", "households", "open_issues", "overdue", "active_volunteers"):
        frame[column] = frame[column].fillna(0).astype(int)
    frame["participation_rate"] = pd.to_numeric(frame["participation_rate"], errors="coerce").astype(float)
    population = frame["population"].where(frame["population"] > 0)
    frame["volunteers_per_1000"] = (frame["active_volunteers"] / population * 1000).astype(float)
    frame["grid_id"] = frame["grid_id"].astype(int)
    return frame[COLUMNS].reset_index(drop=True)


@reads(grid_boundaries, list_grids)
def grid_shapes(*, session: Session) -> list[GridShape]:
    """The grids that have a usable boundary, simplified for display, ordered by code."""
    parsed = [(grid_id, code, name, parse_boundary(boundary))
              for grid_id, code, name, boundary in grid_boundaries(session=session)]
    # One tolerance for all, from the area they cover: a district's 1,000 grids need far fewer
    # vertices than one community's dozen to look the same when the map shows all of them.
    parsed = [row for row in parsed if row[3] is not None]
    tolerance = display_tolerance(combined_bounds(geometry for *_, geometry in parsed))
    displays = simplify_all_for_display([geometry for *_, geometry in parsed], tolerance)
    shapes = []
    for (grid_id, code, name, geometry), display in zip(parsed, displays, strict=True):
        if display is None:
            continue
        lon, lat = label_point(geometry)
        shapes.append(GridShape(grid_id=int(grid_id), code=code, name=name, geometry=display,
                                label_lon=lon, label_lat=lat))
    return shapes


@reads(list_grids, issue_headline, list_issues, upcoming_events, participation_by_grid, volunteers_by_grid, issues_by_grid)
def grid_panel(*, session: Session, grid_id: int, may_see_personal_data: bool) -> GridPanel | None:
    """The clicked grid: leader (phone masked unless allowed), population, households, open and
    overdue issues now with the newest open ones, and its upcoming events. None if there is no such grid."""
    grids = list_grids(session=session, may_see_personal_data=may_see_personal_data)
    match = grids[grids["id"] == grid_id]
    if match.empty:
        return None
    grid = match.iloc[0]
    on = today()
    headline = issue_headline(session=session, start=on, end=on, grid_id=grid_id)
    events = upcoming_events(session=session, grid_id=grid_id, limit=PANEL_EVENTS)
    return GridPanel(
        grid_id=int(grid["id"]), code=grid["code"], name=grid["name"],
        community=None if pd.isna(grid["community"]) else grid["community"],
        leader=None if pd.isna(grid["leader"]) else grid["leader"], leader_phone=grid["leader_phone"] or "",
        population=int(grid["population"]), households=int(grid["households"]),
        open_issues=int(headline.open_issues), overdue=int(headline.overdue),
        issues=list_issues(session=session, states=OPEN_STATE_CODES, grid_id=grid_id, limit=PANEL_ISSUES)[
            ["id", "title", "state", "due_date", "overdue"]],
        events=events[["id", "title", "kind", "starts_at", "place"]].reset_index(drop=True),
    )
