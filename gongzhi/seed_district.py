"""A district to measure on (`python -m gongzhi seed --scale district`): one street office (街道)
with 50 communities of 20 grids each (1,000 grids with boundaries), about 500,000 residents as
population figures, 100,000 issues over three years in every state with their timelines, 20,000
volunteers with their service records, 10,000 events with 500,000 attendance records, and the
meetings that decided the issues sent to them.

The demo seeder (gongzhi.seed) walks every issue through gongzhi.lifecycle; at this size that
would take many minutes, so here each issue's path is simulated in plain Python following the
same rules (lifecycle.ALLOWED, the fields `_apply_move` sets) and every table is written with
bulk Core inserts (executemany), which SQLite and PostgreSQL both take. Everything is drawn
from fixed seeds and dated relative to `today`, nothing after its midnight: the same `today`
and size always give the same rows. `communities` scales every count (tests use 2)."""

from __future__ import annotations

import math
import random
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, time, timedelta
from time import perf_counter

from shapely.geometry import Polygon
from shapely.geometry.polygon import orient
from sqlalchemy import Date, DateTime, Integer, bindparam, func, insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from gongzhi import clock
from gongzhi.db import bump_revision, init_db
from gongzhi.domain import (
    ISSUE_CATEGORIES,
    RATING_WINDOW_DAYS,
    REOPEN_MAX_RATING,
    VOLUNTEER_SKILLS,
    AreaLevel,
    Decision,
    EventKind,
    FacilityKind,
    FixStatus,
    IssueState,
    MeetingStatus,
    OrgKind,
    RejectReason,
    VolunteerStatus,
)
from gongzhi.lifecycle import created_fields, move_fields
from gongzhi.models import (
    AgendaItem,
    Area,
    Attendance,
    Event,
    Facility,
    Issue,
    Meeting,
    Organisation,
    Person,
    Rating,
    ServiceRecord,
    TeamMembership,
    TimelineEntry,
    Volunteer,
)
from gongzhi.permissions import SYSTEM_ACTOR, Actor, Role
from gongzhi.seed import DatabaseNotEmptyError, database_is_empty, load_demo_data, reset_schema
from gongzhi.timeline import timeline_row

SEED = 20261128
CENTRE_LON, CENTRE_LAT = 113.88, 22.58
CELL_KM = (0.30, 0.25)  # a city grid of ~300 × 250 m

COMMUNITIES = 50
GRIDS_PER_COMMUNITY = 20  # 50 × 20 = 1,000 grids
POPULATION_PER_GRID = (350, 650)  # ≈ 500 on average: 500,000 residents in the district
ISSUES_PER_COMMUNITY = 2_000  # 100,000
VOLUNTEERS_PER_COMMUNITY = 400  # 20,000
OTHER_RESIDENTS_PER_COMMUNITY = 1_200  # named residents who take part in events besides volunteers
EVENTS_PER_COMMUNITY = 200  # 10,000
ATTENDANCE_PER_EVENT = (20, 83)  # 51.5 on average × 9,700 past events: 500,000 records
UPCOMING_EVENT_SHARE = 0.03
YEARS = 3
MEETING_EVERY_DAYS = 14  # each community's deliberation meeting (议事会) every other week
CHUNK = 20_000  # rows per executemany call

S = IssueState


@dataclass(frozen=True)
class DistrictSummary:
    communities: int
    grids: int
    population: int
    people: int
    organisations: int
    volunteers: int
    service_records: int
    events: int
    attendances: int
    issues: int
    timeline_entries: int
    ratings: int
    meetings: int
    agenda_items: int
    issues_by_state: dict[str, int]
    seconds: float = 0.0

    def line(self) -> str:
        return (f"{self.communities} communities, {self.grids} grids, {self.population:,} residents, "
                f"{self.people:,} people, {self.organisations} organisations, {self.volunteers:,} volunteers "
                f"({self.service_records:,} service records), {self.events:,} events "
                f"({self.attendances:,} attendances), {self.issues:,} issues ({self.timeline_entries:,} timeline "
                f"entries, {self.ratings:,} ratings), {self.meetings:,} meetings ({self.agenda_items:,} agenda "
                f"items) in {self.seconds:.1f} s")

    def as_dict(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------------------------------------
# Geometry: the district's grid cells (also drawn by bench/district_map.py)


def district_polygons(seed: int, *, cols: int, rows: int) -> list[Polygon]:
    """A cols × rows tiling of grid cells around CENTRE, row by row from the north-west. Corners are
    jittered; every cell edge is a wiggly polyline of 14–28 inner vertices shared by both
    neighbours, so the cells tile without gaps or overlaps and have 60–116 vertices each."""
    rng = random.Random(seed)
    cell_w = CELL_KM[0] / (111.320 * math.cos(math.radians(CENTRE_LAT)))
    cell_h = CELL_KM[1] / 110.574
    west, north = CENTRE_LON - cols * cell_w / 2, CENTRE_LAT + rows * cell_h / 2
    corner = {(i, j): (west + (i + rng.uniform(-0.12, 0.12) * (0 < i < cols)) * cell_w,
                       north - (j + rng.uniform(-0.12, 0.12) * (0 < j < rows)) * cell_h)
              for i in range(cols + 1) for j in range(rows + 1)}

    def edge(a: tuple[float, float], b: tuple[float, float]) -> list[tuple[float, float]]:
        """Inner vertices from a to b: a random walk across the straight line (at most ~4% of a
        cell, small enough that no two edges of a cell can cross)."""
        count = rng.randint(14, 28)
        (x1, y1), (x2, y2) = a, b
        length = math.hypot((x2 - x1) / cell_w, (y2 - y1) / cell_h)
        nx, ny = -(y2 - y1) / cell_h / length * cell_w, (x2 - x1) / cell_w / length * cell_h
        offset, points = 0.0, []
        for k in range(1, count + 1):
            t = k / (count + 1)
            offset = max(-0.04, min(0.04, offset + rng.uniform(-0.012, 0.012)))
            taper = min(t, 1 - t) * 4 if min(t, 1 - t) < 0.25 else 1.0  # meets the corners cleanly
            points.append((x1 + t * (x2 - x1) + nx * offset * taper, y1 + t * (y2 - y1) + ny * offset * taper))
        return points

    across = {(i, j): edge(corner[i, j], corner[i + 1, j]) for i in range(cols) for j in range(rows + 1)}
    down = {(i, j): edge(corner[i, j], corner[i, j + 1]) for i in range(cols + 1) for j in range(rows)}
    polygons = []
    for r in range(rows):
        for c in range(cols):
            nw, ne, se, sw = corner[c, r], corner[c + 1, r], corner[c + 1, r + 1], corner[c, r + 1]
            ring = [nw, *across[c, r], ne, *down[c + 1, r], se, *reversed(across[c, r + 1]), sw,
                    *reversed(down[c, r]), nw]
            ring = [(round(x, 7), round(y, 7)) for x, y in ring]
            polygon = orient(Polygon(ring), 1.0)  # counter-clockwise exterior (RFC 7946)
            if not polygon.is_valid:
                raise AssertionError(f"district cell {r},{c} is invalid")
            polygons.append(polygon)
    return polygons


def community_blocks(communities: int, grids_per_community: int, seed: int) -> list[list[Polygon]]:
    """The grid cells of each community: a block 5 cells wide of one district tiling, the blocks
    laid out wider than tall."""
    per_row = 5 if grids_per_community % 5 == 0 else grids_per_community
    block_rows = grids_per_community // per_row
    blocks_across = max(1, round(math.sqrt(communities * 2)))
    while communities % blocks_across:
        blocks_across -= 1
    blocks_down = communities // blocks_across
    cols, rows = blocks_across * per_row, blocks_down * block_rows
    polygons = district_polygons(seed, cols=cols, rows=rows)
    blocks = []
    for n in range(communities):
        bx, by = n % blocks_across, n // blocks_across
        blocks.append([polygons[(by * block_rows + g // per_row) * cols + bx * per_row + g % per_row]
                       for g in range(grids_per_community)])
    return blocks


def _geojson(polygon: Polygon) -> str:
    coordinates = ",".join(f"[{x},{y}]" for x, y in polygon.exterior.coords)
    return f'{{"type":"Polygon","coordinates":[[{coordinates}]]}}'


# ---------------------------------------------------------------------------------------------
# Entry points


def seed_district(*, engine: Engine, today: date | None = None, communities: int = COMMUNITIES) -> DistrictSummary:
    """Fill an empty database with the district, in one transaction. Raises DatabaseNotEmptyError
    when the database already holds data."""
    started = perf_counter()
    init_db(engine)
    real_now = clock.now()
    # As of now when seeding for today (nothing is left for the app's sweeps to do at its first
    # start); as of midnight for any other day, so that a given day always gives the same rows.
    as_of = real_now if today in (None, real_now.date()) else datetime.combine(today, time())
    with engine.begin() as connection:
        if not database_is_empty(connection):
            raise DatabaseNotEmptyError("the database already holds data; reset it to seed the district")
        _DistrictBuilder(connection, as_of=as_of, communities=communities).build()
        _reset_sequences(connection)
        bump_revision(connection)
        summary = summarise_district(connection)
    return replace(summary, seconds=round(perf_counter() - started, 2))


def reset_and_seed_district(*, engine: Engine, today: date | None = None,
                            communities: int = COMMUNITIES) -> DistrictSummary:
    """Drop every table (ALL data), create the schema again and seed the district."""
    reset_schema(engine)
    return seed_district(engine=engine, today=today, communities=communities)


def summarise_district(connection) -> DistrictSummary:
    def count(model, *where) -> int:
        return connection.execute(select(func.count()).select_from(model).where(*where)).scalar_one()

    by_state = dict(connection.execute(select(Issue.state, func.count()).group_by(Issue.state)).all())
    population = connection.execute(
        select(func.coalesce(func.sum(Area.population), 0)).where(Area.level == AreaLevel.GRID.value)).scalar_one()
    return DistrictSummary(
        communities=count(Area, Area.level == AreaLevel.COMMUNITY.value),
        grids=count(Area, Area.level == AreaLevel.GRID.value), population=int(population), people=count(Person),
        organisations=count(Organisation), volunteers=count(Volunteer), service_records=count(ServiceRecord),
        events=count(Event), attendances=count(Attendance), issues=count(Issue),
        timeline_entries=count(TimelineEntry), ratings=count(Rating), meetings=count(Meeting),
        agenda_items=count(AgendaItem),
        issues_by_state={state.value: int(by_state.get(state.value, 0)) for state in IssueState})


def _reset_sequences(connection: Connection) -> None:
    """Rows were written with explicit ids; PostgreSQL's id sequences must continue after them."""
    if connection.dialect.name != "postgresql":
        return
    for table in SQLModel.metadata.sorted_tables:
        if "id" in table.c and table.c.id.primary_key and isinstance(table.c.id.type, Integer):
            name = connection.dialect.identifier_preparer.quote(table.name)
            connection.execute(text(
                f"SELECT setval(pg_get_serial_sequence(:name, 'id'), COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, "
                "false) WHERE pg_get_serial_sequence(:name, 'id') IS NOT NULL"), {"name": name})


def _insert(connection: Connection, model, rows: list[dict]) -> None:
    """Bulk insert of rows that all have the same keys. On SQLite straight through the driver's
    executemany with values stored exactly as SQLAlchemy stores them (this halves the seed's time);
    elsewhere through a Core insert (PostgreSQL's driver batches it into multi-row VALUES)."""
    if not rows:
        return
    table = model.__table__
    if connection.dialect.name != "sqlite":
        for first in range(0, len(rows), CHUNK):
            connection.execute(insert(table), rows[first:first + CHUNK])
        return
    names = list(rows[0])
    converters = [_sqlite_storage(table.c[name].type) for name in names]
    quote = connection.dialect.identifier_preparer.quote
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in names)}) "
           f"VALUES ({', '.join('?' for _ in names)})")
    plain = [i for i, convert in enumerate(converters) if convert is None]
    if len(plain) == len(names):
        values = [tuple(row.values()) for row in rows]
    else:
        values = [tuple(value if convert is None or value is None else convert(value)
                        for value, convert in zip(row.values(), converters, strict=True)) for row in rows]
    for first in range(0, len(values), CHUNK):
        connection.exec_driver_sql(sql, values[first:first + CHUNK])


def _sqlite_storage(column_type) -> Callable | None:
    """How SQLAlchemy's SQLite dialect stores a value of this type (its DATETIME and DATE
    storage formats), or None when the driver stores the Python value as it is."""
    if isinstance(column_type, DateTime):
        return lambda value: value.isoformat(" ", "microseconds")
    if isinstance(column_type, Date):
        return date.isoformat
    return None


# ---------------------------------------------------------------------------------------------
# The builder


@dataclass
class _Community:
    number: int  # 1-based
    area_id: int
    grid_ids: list[int]
    grid_names: dict[int, str]
    centroids: dict[int, tuple[float, float]]
    cell: tuple[float, float]  # a cell's width and height in degrees
    leaders: dict[int, str]  # grid id -> leader's name
    people: list[tuple[int, int]]  # (person id, grid id) of volunteers and other named residents
    volunteer_ids: list[int]
    leads: list[int]  # organisations that can lead an issue
    hosts: list[int]  # organisations that host events
    teams: list[int]
    meeting_ids: list[int]  # held meetings, in time order, then the planned one last
    meeting_times: list[datetime]


class _DistrictBuilder:
    def __init__(self, connection: Connection, *, as_of: datetime, communities: int):
        self.connection = connection
        self.today = as_of.date()
        self.as_of = as_of  # nothing is dated after it
        self.start = self.as_of - timedelta(days=365 * YEARS)
        self.communities_wanted = communities
        self.names = load_demo_data("names")
        self.issue_cfg = load_demo_data("issues")
        self.next_id: dict[str, int] = {}

    @staticmethod
    def rng(section: str) -> random.Random:
        return random.Random(f"{SEED}:{section}")

    def ids(self, table: str, count: int) -> range:
        first = self.next_id.get(table, 1)
        self.next_id[table] = first + count
        return range(first, first + count)

    def build(self) -> None:
        self.build_areas()
        self.build_organisations()
        self.build_people()
        self.build_volunteers()
        self.build_events()
        self.build_meetings()
        self.build_issues()
        self.build_service_records()

    # -- areas ----------------------------------------------------------------------------

    def build_areas(self) -> None:
        rng = self.rng("areas")
        blocks = community_blocks(self.communities_wanted, GRIDS_PER_COMMUNITY, SEED)
        street_id = self.ids("area", 1)[0]
        rows = [{"id": street_id, "code": "D-STREET", "name": "共治街道", "level": AreaLevel.STREET.value,
                 "parent_id": None, "population": 0, "households": 0, "boundary": None,
                 "centroid_lon": CENTRE_LON, "centroid_lat": CENTRE_LAT, "version": 1}]
        yuan = "桂花梧桐枫叶翠竹海棠紫荆玉兰银杏"
        self.communities: list[_Community] = []
        facilities = []
        total = 0
        for number, cells in enumerate(blocks, start=1):
            community_id = self.ids("area", 1)[0]
            grid_ids = list(self.ids("area", len(cells)))
            populations = [rng.randint(*POPULATION_PER_GRID) for _ in cells]
            community_population = sum(populations)
            total += community_population
            centre = cells[len(cells) // 2].centroid
            rows.append({"id": community_id, "code": f"D{number:02d}", "name": f"第{number}社区",
                         "level": AreaLevel.COMMUNITY.value, "parent_id": street_id,
                         "population": community_population, "households": round(community_population / 2.7),
                         "boundary": None, "centroid_lon": round(centre.x, 6), "centroid_lat": round(centre.y, 6),
                         "version": 1})
            names, centroids = {}, {}
            for g, (grid_id, polygon, population) in enumerate(zip(grid_ids, cells, populations, strict=True),
                                                               start=1):
                centroid = polygon.centroid
                names[grid_id] = f"第{number}社区第{g}网格（{yuan[(number + g) % len(yuan)]}苑）"
                centroids[grid_id] = (centroid.x, centroid.y)
                rows.append({"id": grid_id, "code": f"D{number:02d}-G{g:02d}", "name": names[grid_id],
                             "level": AreaLevel.GRID.value, "parent_id": community_id, "population": population,
                             "households": round(population / rng.uniform(2.55, 2.85)),
                             "boundary": _geojson(polygon), "centroid_lon": round(centroid.x, 6),
                             "centroid_lat": round(centroid.y, 6), "version": 1})
                kind = list(FacilityKind)[(number + g) % len(FacilityKind)]
                facilities.append({"id": self.ids("facility", 1)[0], "name": f"{names[grid_id]}{kind.value}",
                                   "kind": kind.value, "grid_id": grid_id, "lon": round(centroid.x, 6),
                                   "lat": round(centroid.y, 6), "version": 1})
            min_x, min_y, max_x, max_y = cells[0].bounds
            self.communities.append(_Community(
                number=number, area_id=community_id, grid_ids=grid_ids, grid_names=names, centroids=centroids,
                cell=(max_x - min_x, max_y - min_y), leaders={}, people=[], volunteer_ids=[], leads=[], hosts=[],
                teams=[], meeting_ids=[], meeting_times=[]))
        rows[0]["population"], rows[0]["households"] = total, round(total / 2.7)
        _insert(self.connection, Area, rows)
        _insert(self.connection, Facility, facilities)

    # -- organisations --------------------------------------------------------------------

    def build_organisations(self) -> None:
        rows = []

        def organisation(name: str, kind: OrgKind) -> int:
            org_id = self.ids("organisation", 1)[0]
            rows.append({"id": org_id, "name": name, "kind": kind.value, "contact_name": None,
                         "contact_phone": f"+8675528{org_id:06d}", "description": "", "version": 1})
            return org_id

        departments = [organisation(name, OrgKind.GOVERNMENT) for name in (
            "共治街道城市管理和综合执法队", "共治派出所", "共治街道住房和建设办公室", "共治街道社区健康服务中心")]
        foundation = organisation("共治街道社区基金会", OrgKind.FOUNDATION)
        for community in self.communities:
            n = community.number
            committee = organisation(f"第{n}社区居民委员会", OrgKind.COMMITTEE)
            property_manager = organisation(f"第{n}社区物业服务中心", OrgKind.PROPERTY_MANAGER)
            social_work = organisation(f"第{n}社区社工站", OrgKind.SOCIAL_WORK_AGENCY)
            social_org = organisation(f"第{n}社区邻里互助会", OrgKind.SOCIAL_ORG)
            patrol = organisation(f"第{n}社区平安巡逻队", OrgKind.VOLUNTEER_TEAM)
            elderly = organisation(f"第{n}社区助老服务队", OrgKind.VOLUNTEER_TEAM)
            dance = organisation(f"第{n}社区广场舞队", OrgKind.CULTURE_SPORTS_TEAM)
            community.leads = [property_manager, social_work, social_org, committee, *departments]
            community.hosts = [committee, social_work, social_org, patrol, elderly, dance, foundation]
            community.teams = [patrol, elderly, dance]
        _insert(self.connection, Organisation, rows)

    # -- people ---------------------------------------------------------------------------

    def _namer(self, rng: random.Random) -> Callable[[], str]:
        surnames = [s for s, _ in self.names["surnames"]]
        weights = [w for _, w in self.names["surnames"]]
        given = [name for generation in self.names["given"].values() for sex in generation.values() for name in sex]
        return lambda: rng.choices(surnames, weights)[0] + rng.choice(given)

    def build_people(self) -> None:
        rng = self.rng("people")
        name = self._namer(rng)
        rows, leader_rows = [], []
        born = self.start - timedelta(days=400)
        per_community = GRIDS_PER_COMMUNITY + VOLUNTEERS_PER_COMMUNITY + OTHER_RESIDENTS_PER_COMMUNITY
        for community in self.communities:
            ids = iter(self.ids("person", per_community))
            for grid_id in community.grid_ids:
                person_id = next(ids)
                community.leaders[grid_id] = leader = name()
                rows.append(self._person(person_id, leader, grid_id, rng.randint(1968, 1992), born))
                leader_rows.append({"area_id": grid_id, "leader": person_id})
            for person_id in ids:
                grid_id = rng.choice(community.grid_ids)
                rows.append(self._person(person_id, name(), grid_id, rng.randint(1940, 2012), born))
                community.people.append((person_id, grid_id))
        _insert(self.connection, Person, rows)
        self.connection.execute(update(Area.__table__).where(Area.__table__.c.id == bindparam("area_id"))
                                .values(leader_id=bindparam("leader")), leader_rows)

    @staticmethod
    def _person(person_id: int, name: str, grid_id: int, birth_year: int, created: datetime) -> dict:
        # Distinct, obviously generated numbers: 199 is a prefix no demo resident uses.
        return {"id": person_id, "name": name, "phone": f"+86199{person_id:08d}", "grid_id": grid_id,
                "building_id": None, "birth_year": birth_year, "created_at": created, "version": 1}

    # -- volunteers -----------------------------------------------------------------------

    def build_volunteers(self) -> None:
        rng = self.rng("volunteers")
        rows, teams = [], []
        self.volunteer_plans: list[tuple[int, date, date]] = []  # id, joined, last day served
        span = (self.today - self.start.date()).days
        for community in self.communities:
            ids = self.ids("volunteer", VOLUNTEERS_PER_COMMUNITY)
            for volunteer_id, (person_id, grid_id) in zip(ids, community.people, strict=False):
                joined = self.start.date() + timedelta(days=int(span * rng.random() ** 1.5))
                r = rng.random()
                status = (VolunteerStatus.ACTIVE if r < 0.8 else VolunteerStatus.PAUSED if r < 0.9
                          else VolunteerStatus.LEFT)
                last = self.today - timedelta(days=0 if status == VolunteerStatus.ACTIVE else rng.randint(30, 200))
                skills = ",".join(sorted(rng.sample(VOLUNTEER_SKILLS, rng.randint(1, 3)),
                                         key=VOLUNTEER_SKILLS.index))
                rows.append({"id": volunteer_id, "person_id": person_id, "grid_id": grid_id, "skills": skills,
                             "status": status.value, "joined_on": joined, "note": "", "version": 1})
                community.volunteer_ids.append(volunteer_id)
                self.volunteer_plans.append((volunteer_id, joined, max(joined, last)))
                if rng.random() < 0.5:
                    teams.append({"volunteer_id": volunteer_id, "organisation_id": rng.choice(community.teams)})
        _insert(self.connection, Volunteer, rows)
        _insert(self.connection, TeamMembership, teams)

    # -- events ---------------------------------------------------------------------------

    def build_events(self) -> None:
        rng = self.rng("events")
        kinds = list(EventKind)
        titles = {kind: title for kind, title in zip(kinds, (
            "志愿服务日", "文体联欢", "长者关爱探访", "四点半课堂", "消防安全培训", "居民议事开放日", "邻里节",
            "义诊与健康讲座"), strict=True)}
        events, attendance = [], []
        self.event_service: list[tuple[int, date, float, int]] = []  # event, day, hours, community index
        span_minutes = (self.as_of - self.start).days * 24 * 60
        for index, community in enumerate(self.communities):
            people = [person_id for person_id, _ in community.people]
            for event_id in self.ids("event", EVENTS_PER_COMMUNITY):
                kind = rng.choice(kinds)
                if rng.random() < UPCOMING_EVENT_SHARE:
                    day = self.today + timedelta(days=rng.randint(1, 30))
                else:
                    day = (self.start + timedelta(minutes=rng.randrange(span_minutes))).date()
                starts = datetime.combine(day, time(rng.choice((9, 10, 14, 15, 19)), rng.choice((0, 30))))
                hours = rng.choice((1.5, 2, 2.5, 3))
                grid_id = rng.choice(community.grid_ids) if rng.random() < 0.85 else None
                place = community.grid_names[grid_id] + "活动室" if grid_id else f"第{community.number}社区党群服务中心"
                events.append({"id": event_id, "title": f"{titles[kind]}（第{community.number}社区）", "kind": kind.value,
                               "host_org_id": rng.choice(community.hosts), "grid_id": grid_id, "starts_at": starts,
                               "ends_at": starts + timedelta(hours=hours), "place": place,
                               "capacity": rng.choice((None, 60, 80, 100, 150)),
                               "headcount": rng.randint(0, 60), "description": "", "version": 1})
                if starts < self.as_of:
                    attendees = sorted(rng.sample(people, rng.randint(*ATTENDANCE_PER_EVENT)))
                    attendance.extend({"id": attendance_id, "event_id": event_id, "person_id": person_id}
                                      for attendance_id, person_id in zip(
                                          self.ids("attendance", len(attendees)), attendees, strict=True))
                    self.event_service.append((event_id, day, hours + 1, index))
        _insert(self.connection, Event, events)
        _insert(self.connection, Attendance, attendance)

    # -- meetings -------------------------------------------------------------------------

    def build_meetings(self) -> None:
        """Each community's deliberation meeting every MEETING_EVERY_DAYS at 19:30, from three
        years ago; the first one after today is planned, the others were held. Agendas are
        filled by the issues (build_issues)."""
        rng = self.rng("meetings")
        name = self._namer(rng)
        self.meeting_rows: list[dict] = []
        for community in self.communities:
            first = datetime.combine(self.start.date() + timedelta(days=community.number % MEETING_EVERY_DAYS),
                                     time(19, 30))
            held_at = first
            while True:
                meeting_id = self.ids("meeting", 1)[0]
                planned = held_at > self.as_of
                attendees = [name() for _ in range(rng.randint(7, 13))]
                self.meeting_rows.append({
                    "id": meeting_id, "title": f"第{community.number}社区居民议事会（{held_at:%Y-%m-%d}）",
                    "kind": "deliberation", "held_at": held_at, "place": f"第{community.number}社区党群服务中心",
                    "status": (MeetingStatus.PLANNED if planned else MeetingStatus.HELD).value,
                    "attendees": "" if planned else "\n".join(attendees), "quorum": 6,
                    "quorum_met": None if planned else True, "minutes": "", "version": 1})
                community.meeting_ids.append(meeting_id)
                community.meeting_times.append(held_at)
                if planned:
                    break
                held_at += timedelta(days=MEETING_EVERY_DAYS)
        self.agenda: dict[int, list[dict]] = {row["id"]: [] for row in self.meeting_rows}

    # -- issues ---------------------------------------------------------------------------

    def build_issues(self) -> None:
        rng = self.rng("issues")
        categories = self.issue_cfg["categories"]
        codes = list(ISSUE_CATEGORIES)
        weights = [categories[code]["weight"] for code in codes]
        self.issue_rows: list[dict] = []
        self.timeline_rows: list[dict] = []
        self.rating_rows: list[dict] = []
        self.action_spans: list[tuple[int, datetime, datetime, int]] = []
        span_minutes = (self.as_of - self.start).days * 24 * 60
        for index, community in enumerate(self.communities):
            reported = sorted(self.start + timedelta(minutes=rng.randrange(span_minutes))
                              for _ in range(ISSUES_PER_COMMUNITY))
            earlier_in_grid: dict[tuple[int, str], int] = {}
            for issue_id, reported_at in zip(self.ids("issue", ISSUES_PER_COMMUNITY), reported, strict=True):
                category = rng.choices(codes, weights)[0]
                grid_id = rng.choice(community.grid_ids)
                issue = self._issue(rng, community, issue_id, category, grid_id, reported_at)
                _IssuePath(self, rng, community, issue, earlier_in_grid.get((grid_id, category)), index).walk()
                earlier_in_grid[grid_id, category] = issue_id
                self.issue_rows.append(issue)
        # Positions and votes of the agenda items, a free topic per held meeting, the minutes.
        agenda_rows = []
        for meeting in self.meeting_rows:
            items = sorted(self.agenda[meeting["id"]], key=lambda item: item["issue_id"])
            held = meeting["status"] == MeetingStatus.HELD
            if held:
                items.append(self._agenda_item(meeting["id"], None, Decision.APPROVE, "审议通过", topic="社区公共收益使用情况通报"))
            present = len(meeting["attendees"].splitlines())
            for position, item in enumerate(items, start=1):
                item["position"] = position
                item["id"] = self.ids("agendaitem", 1)[0]
                if item["decision"] is not None:
                    against = rng.randint(0, 2)
                    abstain = rng.randint(0, 2)
                    item["votes_for"] = present - against - abstain
                    item["votes_against"], item["votes_abstain"] = against, abstain
                    if item["decision"] == Decision.REJECT.value:
                        item["votes_for"], item["votes_against"] = item["votes_against"], item["votes_for"]
            if held:
                decided = {decision: sum(1 for item in items if item["decision"] == decision.value)
                           for decision in Decision}
                meeting["minutes"] = (
                    f"会议时间：{meeting['held_at']:%Y年%m月%d日 %H:%M}\n会议地点：{meeting['place']}\n"
                    f"应到13人，实到{present}人，达到法定人数，会议有效。\n议题{len(items)}项："
                    f"通过并交办{decided[Decision.APPROVE]}项，不予通过{decided[Decision.REJECT]}项，"
                    f"暂缓{decided[Decision.DEFER]}项。")
            agenda_rows.extend(items)
        _insert(self.connection, Meeting, self.meeting_rows)
        _insert(self.connection, Issue, self.issue_rows)
        for entry_id, row in enumerate(self.timeline_rows, start=1):
            row["id"] = entry_id
        _insert(self.connection, TimelineEntry, self.timeline_rows)
        _insert(self.connection, Rating, self.rating_rows)
        _insert(self.connection, AgendaItem, agenda_rows)

    def _issue(self, rng: random.Random, community: _Community, issue_id: int, category: str, grid_id: int,
               reported_at: datetime) -> dict:
        title, description = rng.choice(self.issue_cfg["categories"][category]["templates"])
        place = {"b": f"{rng.randint(1, 30)}栋", "y": community.grid_names[grid_id][-3:-1], "p": "小广场"}
        lon, lat = community.centroids[grid_id]
        width, height = community.cell
        reporter = rng.choice(community.people)[0] if rng.random() < 0.6 else None
        return {"id": issue_id, "title": title.format(**place)[:120], "description": description.format(**place),
                "category": category, "grid_id": grid_id, "building_id": None, "reporter_id": reporter,
                **created_fields(category, reported_at),
                "lat": round(lat + rng.uniform(-0.25, 0.25) * height, 6),
                "lon": round(lon + rng.uniform(-0.25, 0.25) * width, 6), "version": 1}

    @staticmethod
    def _agenda_item(meeting_id: int, issue_id: int | None, decision: Decision | None, note: str, *,
                     topic: str = "", lead_org_id: int | None = None, due: date | None = None,
                     merged_into: int | None = None) -> dict:
        return {"meeting_id": meeting_id, "position": 0, "issue_id": issue_id, "topic": topic,
                "decision": decision.value if decision else None, "decision_note": note, "votes_for": 0,
                "votes_against": 0, "votes_abstain": 0, "lead_org_id": lead_org_id, "due_date": due,
                "merged_into_id": merged_into, "version": 1}

    # -- service records --------------------------------------------------------------------

    def build_service_records(self) -> None:
        """Volunteers serving at events and on issues in action, and general duty."""
        rng = self.rng("service")
        rows = []

        def record(volunteer_id: int, day: date, hours: float, *, event_id=None, issue_id=None, note="") -> None:
            rows.append({"volunteer_id": volunteer_id, "served_on": day, "hours": hours, "event_id": event_id,
                         "issue_id": issue_id, "note": note,
                         "created_at": min(datetime.combine(day, time(21, 0)), self.as_of)})

        plans = {volunteer_id: (joined, last) for volunteer_id, joined, last in self.volunteer_plans}
        for event_id, day, hours, index in self.event_service:
            candidates = self.communities[index].volunteer_ids
            for volunteer_id in rng.sample(candidates, 3):
                joined, last = plans[volunteer_id]
                if joined <= day <= last:
                    record(volunteer_id, day, hours, event_id=event_id, note="活动服务")
        for issue_id, start, end, index in self.action_spans:
            if rng.random() < 0.2 and end > start:
                day = (start + (end - start) * rng.random()).date()
                volunteer_id = rng.choice(self.communities[index].volunteer_ids)
                joined, last = plans[volunteer_id]
                if joined <= day <= last:
                    record(volunteer_id, day, rng.choice((1.0, 1.5, 2.0)), issue_id=issue_id, note="协助办理")
        for volunteer_id, (joined, last) in plans.items():
            span = (last - joined).days
            for _ in range(min(60, int(rng.paretovariate(1.6) * 3))):
                record(volunteer_id, joined + timedelta(days=rng.randint(0, span)), rng.randint(2, 12) / 2,
                       note="日常值守")
        rows.sort(key=lambda row: (row["served_on"], row["volunteer_id"], row["event_id"] or 0, row["issue_id"] or 0))
        for record_id, row in enumerate(rows, start=1):
            row["id"] = record_id
        _insert(self.connection, ServiceRecord, rows)


class _IssuePath:
    """One issue's way through the five-step loop up to the builder's `as_of`, with the fields
    and timeline entries gongzhi.lifecycle would have written on each move."""

    def __init__(self, builder: _DistrictBuilder, rng: random.Random, community: _Community, issue: dict,
                 earlier_in_grid: int | None, community_index: int):
        self.b, self.rng, self.community, self.issue = builder, rng, community, issue
        self.earlier = earlier_in_grid
        self.index = community_index
        self.category = builder.issue_cfg["categories"][issue["category"]]
        self.leader = community.leaders[issue["grid_id"]]
        self.secretary = f"第{community.number}社区秘书"

    def note(self, at: datetime, kind: str, actor: str, role: Role, text: str, *, from_state=None, to_state=None,
             meeting_id: int | None = None) -> None:
        self.b.timeline_rows.append(timeline_row(
            issue_id=self.issue["id"], kind=kind, actor=Actor(name=actor, role=role), at=at, from_state=from_state,
            to_state=to_state, note=text, meeting_id=meeting_id))

    def move(self, at: datetime, target: IssueState, actor: str, role: Role, text: str = "", *,
             meeting_id: int | None = None, lead: int | None = None, due: date | None = None,
             reject_reason: RejectReason | None = None, duplicate_of: int | None = None) -> bool:
        """Make the move at `at` with the fields lifecycle.move_fields gives; False (nothing done) when `at`
        lies after the builder's as_of: the issue stays where it is."""
        if at > self.b.as_of:
            return False
        issue = self.issue
        from_state = issue["state"]
        issue.update(move_fields(issue, target, at, lead_org_id=lead, due_date=due, reject_reason=reject_reason,
                                 duplicate_of_id=duplicate_of))
        self.note(at, "transition", actor, role, text, from_state=from_state, to_state=target.value,
                  meeting_id=meeting_id)
        return True

    def later(self, at: datetime, low_days: float, high_days: float) -> datetime:
        return (at + timedelta(days=self.rng.uniform(low_days, high_days))).replace(microsecond=0)

    def walk(self) -> None:
        rng, cfg, issue = self.rng, self.b.issue_cfg, self.issue
        reported_at = issue["reported_at"]
        self.note(reported_at, "created", "居民", Role.REPRESENTATIVE, "", to_state=S.REPORTED.value)
        at = self.later(reported_at, 0.05, 3)
        if not self.move(at, S.GRID_REVIEW, self.leader, Role.LEADER, rng.choice(cfg["accept_notes"])):
            return
        at = self.later(at, 0.2, 5)
        r = rng.random()
        if r < 0.07:
            reason = (RejectReason.DUPLICATE if self.earlier and r < 0.02 else
                      RejectReason.NOT_RESPONSIBLE if r < 0.05 else RejectReason.WITHDRAWN)
            self.move(at, S.REJECTED, self.leader, Role.LEADER, "不予受理", reject_reason=reason,
                      duplicate_of=self.earlier)
        elif r < 0.07 + self.category["meeting"]:
            if self.move(at, S.MEETING, self.leader, Role.LEADER, rng.choice(cfg["to_meeting_notes"])):
                self.meeting(at)
        elif r < 0.55:
            lead = rng.choice(self.community.leads)
            due = at.date() + timedelta(days=rng.randint(7, 30))
            if self.move(at, S.IN_ACTION, self.leader, Role.LEADER, rng.choice(cfg["local_resolve_notes"]),
                         lead=lead, due=due):
                self.note(at, "assignment", self.leader, Role.LEADER, f"#{lead} · {due.isoformat()}")
                self.in_action(at)
        elif self.move(at, S.RESIDENT_REVIEW, self.leader, Role.LEADER,
                       f"{rng.choice(cfg['local_resolve_notes'])}：{rng.choice(self.category['done'])}"):
            self.review(at)

    def meeting(self, entered: datetime) -> None:
        """The next meeting at least a day later decides: mostly approve and assign, some rejected,
        some deferred once to the meeting after. After today: on the planned meeting's agenda."""
        rng, community = self.rng, self.community
        k = min(bisect_left(community.meeting_times, entered + timedelta(days=1)), len(community.meeting_ids) - 1)
        deferred = False
        while True:
            meeting_id = community.meeting_ids[k]
            if k == len(community.meeting_ids) - 1:  # the planned meeting: not decided yet
                self.b.agenda[meeting_id].append(self.b._agenda_item(meeting_id, self.issue["id"], None, ""))
                return
            decided_at = community.meeting_times[k] + timedelta(minutes=rng.randint(80, 130))
            r = rng.random()
            if r < 0.06 and not deferred:
                self.b.agenda[meeting_id].append(
                    self.b._agenda_item(meeting_id, self.issue["id"], Decision.DEFER, "需进一步调查，下次再议"))
                self.note(decided_at, "progress", self.secretary, Role.COMMITTEE, "需进一步调查，下次再议",
                          meeting_id=meeting_id)
                deferred = True
                k += 1
                continue
            if r < 0.16:
                self.b.agenda[meeting_id].append(
                    self.b._agenda_item(meeting_id, self.issue["id"], Decision.REJECT, "不属于社区职责范围"))
                self.move(decided_at, S.REJECTED, self.secretary, Role.COMMITTEE, "不属于社区职责范围",
                          meeting_id=meeting_id, reject_reason=RejectReason.NOT_RESPONSIBLE)
                return
            lead = rng.choice(community.leads)
            due = decided_at.date() + timedelta(days=rng.randint(14, 50))
            self.b.agenda[meeting_id].append(self.b._agenda_item(
                meeting_id, self.issue["id"], Decision.APPROVE, "通过并交办", lead_org_id=lead, due=due))
            self.move(decided_at, S.IN_ACTION, self.secretary, Role.COMMITTEE, "通过并交办", meeting_id=meeting_id,
                      lead=lead, due=due)
            self.in_action(decided_at)
            return

    def in_action(self, start: datetime) -> None:
        rng = self.rng
        # Mostly done within the deadline; some run late, a few stall for months.
        r = rng.random()
        end = self.later(start, *((1, 20) if r < 0.8 else (20, 60) if r < 0.96 else (60, 240)))
        steps = rng.randint(0, 2)
        for step in range(steps):
            at = start + (end - start) * (step + 1) / (steps + 1)
            if at > self.b.as_of:
                break
            self.note(at.replace(microsecond=0), "progress", self.leader, Role.LEADER,
                      rng.choice(self.category["progress"]))
        self.b.action_spans.append((self.issue["id"], start, min(end, self.b.as_of), self.index))
        if self.move(end, S.RESIDENT_REVIEW, self.leader, Role.LEADER,
                     f"已办结：{rng.choice(self.category['done'])}"):
            self.review(end)

    def review(self, resolved: datetime) -> None:
        rng, issue = self.rng, self.issue
        if rng.random() < 0.78:
            at = self.later(resolved, 0.25, 10)
            if at > self.b.as_of:
                return
            reopened = issue["reopen_count"] > 0
            rating = rng.choices([5, 4, 3, 2, 1], [40, 40, 14, 4, 2] if reopened else [48, 30, 11, 6, 5])[0]
            fix = (FixStatus.FIXED if rating >= 4 else FixStatus.PARTLY_FIXED if rating == 3
                   else FixStatus.NOT_FIXED)
            reopen = (rating <= REOPEN_MAX_RATING or fix == FixStatus.NOT_FIXED) and not reopened
            if not reopen and rating <= REOPEN_MAX_RATING:  # reopened once already: rated mediocre at worst
                rating, fix = 3, FixStatus.PARTLY_FIXED
            comment = self.b.issue_cfg["rating_comments"][str(rating)][0]
            issue["rating"], issue["fix_status"] = rating, fix.value
            self.b.rating_rows.append({"id": len(self.b.rating_rows) + 1, "issue_id": issue["id"], "rating": rating,
                                       "fix_status": fix.value, "comment": comment, "rated_by": self.leader,
                                       "created_at": at})
            self.note(at, "rating", self.leader, Role.LEADER, f"{rating}/5 {fix.value} {comment}",
                      from_state=S.RESIDENT_REVIEW.value, to_state=S.RESIDENT_REVIEW.value)
            if reopen:
                self.move(at, S.IN_ACTION, self.leader, Role.LEADER, comment)
                self.in_action(at)
            else:
                self.move(at, S.CLOSED, self.leader, Role.LEADER, comment)
            return
        # Nobody rates: the app's hourly sweep closes it once the rating window is over.
        sweep = resolved + timedelta(days=RATING_WINDOW_DAYS, minutes=1)
        self.move(sweep, S.CLOSED_UNRATED, SYSTEM_ACTOR.name, SYSTEM_ACTOR.role, f"{RATING_WINDOW_DAYS}d")


def checksum_rows(connection, tables: Iterable = (Area, Person, Volunteer, Event, Issue, TimelineEntry, Meeting,
                                                  AgendaItem, Rating)) -> str:
    """A digest of every row of `tables` in id order: equal digests mean equal data."""
    import hashlib

    digest = hashlib.sha256()
    for model in tables:
        table = model.__table__
        for row in connection.execute(select(table).order_by(table.c.id)):
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()
