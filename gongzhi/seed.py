"""The demo community: 桃源居社区 in 西乡街道 (Bao'an, Shenzhen), twelve grids, about 10,000
residents, organisations of every kind, volunteers with three years of service, a year of events,
issues and meetings. Everything is drawn from fixed random seeds and dated relative to `today`, so
the demo never looks stale and the same `today` (and clock) always gives the same data.

Issues are not written in their final state: each one is created as `reported` and then moved
through `gongzhi.lifecycle` (move / rate) with the clock frozen at realistic later times, so every
timeline obeys the same rules as the app. Texts and names come from `data/demo/*.json`."""

from __future__ import annotations

import json
import math
import random
from bisect import bisect_left
from collections import defaultdict
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, time, timedelta
from time import perf_counter

from shapely.geometry import Point, Polygon
from shapely.geometry.polygon import orient
from shapely.ops import unary_union
from shapely.prepared import prep
from sqlalchemy import func, insert, inspect, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from gongzhi import clock, lifecycle, timeline
from gongzhi.accounts import create_demo_accounts
from gongzhi.config import PROJECT_ROOT
from gongzhi.db import init_db, write_session
from gongzhi.domain import (
    ISSUE_CATEGORIES,
    RATING_WINDOW_DAYS,
    REOPEN_MAX_RATING,
    VOLUNTEER_SKILLS,
    AreaLevel,
    Decision,
    FacilityKind,
    FixStatus,
    IssueState,
    MeetingStatus,
    RejectReason,
    VolunteerStatus,
    service_levels,
)
from gongzhi.models import (
    AgendaItem,
    Area,
    Attendance,
    DataRevision,
    Event,
    Facility,
    Issue,
    IssueCooperator,
    Meeting,
    Organisation,
    Person,
    Rating,
    Revision,
    ServiceRecord,
    TeamMembership,
    TimelineEntry,
    Volunteer,
)
from gongzhi.permissions import SYSTEM_ACTOR, Actor, Role
from gongzhi.privacy import normalise_phone
from gongzhi.revisions import generation, total

SEED = 20260101
DATA_DIR = PROJECT_ROOT / "data" / "demo"

N_ISSUES = 400
N_RECENT_ISSUES = 24  # of those, reported in the last week (so the open states are populated)
PAST_EVENT_DAYS = (1, 358)  # past events lie this many days before today: inside "the last 12 months"
SERVICE_YEARS_DAYS = 3 * 365
MEETING_SHARE_FACTOR = 1.3  # scales each category's chance to go to a meeting
CN_NUMERALS = "一二三四五六七八九十"

S = IssueState


class DatabaseNotEmptyError(RuntimeError):
    """The demo is only ever written into an empty database."""


@dataclass(frozen=True)
class SeedSummary:
    areas: int
    grids: int
    buildings: int
    units: int
    people: int
    organisations: int
    volunteers: int
    team_memberships: int
    service_records: int
    service_hours: float
    events: int  # held in the last 12 months
    upcoming_events: int
    attendances: int
    issues: int
    timeline_entries: int
    ratings: int
    meetings: int
    agenda_items: int
    issues_by_state: dict[str, int]
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"{self.areas} areas ({self.grids} grids, {self.buildings} buildings), {self.people} people, "
            f"{self.organisations} organisations, {self.volunteers} volunteers "
            f"({self.service_records} service records, {self.service_hours:.0f} h), "
            f"{self.events} past + {self.upcoming_events} upcoming events ({self.attendances} attendances), "
            f"{self.issues} issues ({self.timeline_entries} timeline entries, {self.ratings} ratings), "
            f"{self.meetings} meetings ({self.agenda_items} agenda items) in {self.seconds:.1f} s"
        )

    def as_dict(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------------------------------------
# Public entry points


def seed_demo(*, engine: Engine, today: date | None = None) -> SeedSummary:
    """Fill an empty database with the demo community, in one write transaction. Dates are relative
    to `today` (default: the community clock's today); nothing is dated after the clock's now.
    Raises DatabaseNotEmptyError when the database already holds data."""
    started = perf_counter()
    init_db(engine)
    real_now = clock.now()
    today = today or real_now.date()
    # The moment the demo is "as of": now, when seeding for today; midday of another day otherwise.
    as_of = real_now if today == real_now.date() else datetime.combine(today, time(12, 0))
    with write_session(engine, actor=SYSTEM_ACTOR) as session:
        if not database_is_empty(session):
            raise DatabaseNotEmptyError("the database already holds data; reset it to seed the demo")
        builder = _DemoBuilder(session, today=today, as_of=as_of)
        builder.build()
        session.flush()
        first_grid = session.execute(select(Area.id).where(Area.level == AreaLevel.GRID).order_by(Area.code)).scalar()
        create_demo_accounts(session=session, leader_grid_id=first_grid)
        summary = _summarise(session, today)
    return replace(summary, seconds=round(perf_counter() - started, 2))


def reset_and_seed(*, engine: Engine, today: date | None = None) -> SeedSummary:
    """Drop every table, create the schema again and seed the demo."""
    reset_schema(engine)
    return seed_demo(engine=engine, today=today)


def reset_schema(engine: Engine) -> None:
    """Drop every table and create the schema again, empty. The data revision continues from the
    old one, so caches keyed on it never serve a pre-reset result."""
    old_revision = _read_revision(engine)
    drop_all_tables(engine)
    init_db(engine)  # migrates the empty database to the newest schema
    if old_revision:
        with Session(engine) as session:  # the generation ends above every old key
            session.execute(update(Revision).where(Revision.id == 1).values(value=old_revision + 1))
            session.commit()


def ensure_demo(engine: Engine, *, today: date | None = None) -> SeedSummary | None:
    """First start of the app: create the schema and, if there are no areas yet, seed the demo.
    Returns None when there was data already (also when another process seeded it meanwhile)."""
    init_db(engine)
    with Session(engine) as session:
        if session.execute(select(Area.id).limit(1)).first() is not None:
            return None
    try:
        return seed_demo(engine=engine, today=today)
    except DatabaseNotEmptyError:
        return None


def database_is_empty(session: Session) -> bool:
    for model in (Area, Person, Organisation, Issue, Event, Meeting, Volunteer):
        if session.execute(select(model.id).limit(1)).first() is not None:
            return False
    return True


def drop_all_tables(engine: Engine) -> None:
    """Drop every table of the schema. Areas and people refer to each other (grid leader / home
    grid), so no drop order satisfies the foreign keys: SQLite drops with its checks switched off,
    other databases drop CASCADE."""
    preparer = engine.dialect.identifier_preparer
    # alembic_version too, so that the empty database is migrated from the start again.
    names = [preparer.quote(name) for name in [*SQLModel.metadata.tables, "alembic_version"]]
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            raw = connection.connection.driver_connection
            raw.execute("PRAGMA foreign_keys=OFF")  # outside any transaction, where it takes effect
            try:
                for name in names:
                    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
                connection.commit()
            finally:
                raw.execute("PRAGMA foreign_keys=ON")
        return
    with engine.begin() as connection:
        for name in names:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name} CASCADE")


def _read_revision(engine: Engine) -> int:
    if not inspect(engine).has_table(Revision.__tablename__):
        return 0
    with Session(engine) as session:
        if not inspect(engine).has_table(DataRevision.__tablename__):
            return generation(session)
        return total(session)


def _summarise(session: Session, today: date) -> SeedSummary:
    def count(model, *where) -> int:
        return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()

    def areas(level: AreaLevel) -> int:
        return count(Area, Area.level == level.value)

    start_of_today = datetime.combine(today, time())
    by_state = dict(session.execute(select(Issue.state, func.count()).group_by(Issue.state)).all())
    return SeedSummary(
        areas=count(Area), grids=areas(AreaLevel.GRID), buildings=areas(AreaLevel.BUILDING),
        units=areas(AreaLevel.UNIT), people=count(Person), organisations=count(Organisation),
        volunteers=count(Volunteer), team_memberships=count(TeamMembership),
        service_records=count(ServiceRecord),
        service_hours=float(session.execute(select(func.coalesce(func.sum(ServiceRecord.hours), 0))).scalar_one()),
        events=count(Event, Event.starts_at < start_of_today),
        upcoming_events=count(Event, Event.starts_at >= start_of_today),
        attendances=count(Attendance), issues=count(Issue), timeline_entries=count(TimelineEntry),
        ratings=count(Rating), meetings=count(Meeting), agenda_items=count(AgendaItem),
        issues_by_state={state.value: by_state.get(state.value, 0) for state in IssueState},
    )


# ---------------------------------------------------------------------------------------------
# Helpers


def load_demo_data(name: str) -> dict:
    return json.loads((DATA_DIR / f"{name}.json").read_text(encoding="utf-8"))


def _split(total: int, weights: list[float]) -> list[int]:
    """Integers proportional to `weights` that add up to `total` (largest remainder)."""
    scale = total / sum(weights)
    raw = [w * scale for w in weights]
    parts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - parts[i]), i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _weighted_sample(rng: random.Random, items: list, weights: list[float], k: int) -> list:
    """k distinct items, chance proportional to weight (Efraimidis–Spirakis), in drawn order."""
    keyed = sorted(((rng.random() ** (1.0 / w), i) for i, w in enumerate(weights) if w > 0), reverse=True)
    return [items[i] for _, i in keyed[:k]]


def _half_hours(rng: random.Random, low: float, high: float) -> float:
    return rng.randint(int(low * 2), int(high * 2)) / 2


def _clock_time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _geojson(polygon: Polygon) -> str:
    polygon = orient(polygon, 1.0)  # counter-clockwise exterior (RFC 7946)
    ring = [[round(x, 6), round(y, 6)] for x, y in polygon.exterior.coords]
    return json.dumps({"type": "Polygon", "coordinates": [ring]}, separators=(",", ":"))


def grid_polygons(rng: random.Random, *, lon: float, lat: float, width_km: float, height_km: float,
                  cols: int = 4, rows: int = 3) -> list[Polygon]:
    """A cols×rows tiling of a width×height block centred on (lon, lat), row by row from the
    north-west. Corners and edge midpoints are jittered but shared, so neighbours touch without
    overlapping; every ring is closed and counter-clockwise (RFC 7946)."""
    span_lon = width_km / (111.320 * math.cos(math.radians(lat)))
    span_lat = height_km / 110.574
    cell_w, cell_h = span_lon / cols, span_lat / rows
    west, north = lon - span_lon / 2, lat + span_lat / 2

    def jitter(amount: float) -> float:
        return rng.uniform(-amount, amount)

    corner = {}
    for i in range(cols + 1):
        for j in range(rows + 1):
            jx = 0.06 if i in (0, cols) else 0.16
            jy = 0.06 if j in (0, rows) else 0.16
            corner[i, j] = (round(west + i * cell_w + jitter(jx) * cell_w, 6),
                            round(north - j * cell_h + jitter(jy) * cell_h, 6))
    across = {}  # midpoint of the edge from corner (i, j) to (i + 1, j)
    for i in range(cols):
        for j in range(rows + 1):
            (x1, y1), (x2, y2) = corner[i, j], corner[i + 1, j]
            across[i, j] = (round((x1 + x2) / 2 + jitter(0.08) * cell_w, 6),
                            round((y1 + y2) / 2 + jitter(0.07) * cell_h, 6))
    down = {}  # midpoint of the edge from corner (i, j) to (i, j + 1)
    for i in range(cols + 1):
        for j in range(rows):
            (x1, y1), (x2, y2) = corner[i, j], corner[i, j + 1]
            down[i, j] = (round((x1 + x2) / 2 + jitter(0.07) * cell_w, 6),
                          round((y1 + y2) / 2 + jitter(0.08) * cell_h, 6))
    polygons = []
    for r in range(rows):
        for c in range(cols):
            nw, ne, se, sw = corner[c, r], corner[c + 1, r], corner[c + 1, r + 1], corner[c, r + 1]
            ring = [sw, across[c, r + 1], se, down[c + 1, r], ne, across[c, r], nw, down[c, r], sw]
            polygon = Polygon(ring)
            if not polygon.is_valid or not polygon.exterior.is_ccw:
                raise AssertionError(f"demo grid polygon {r},{c} is invalid")
            polygons.append(polygon)
    return polygons


def _cn_number(n: int) -> str:
    """1..99 in Chinese numerals: 一, 十, 十一, 二十三 …"""
    tens, ones = divmod(n, 10)
    if tens == 0:
        return CN_NUMERALS[ones - 1]
    prefix = "" if tens == 1 else CN_NUMERALS[tens - 1]
    return prefix + "十" + (CN_NUMERALS[ones - 1] if ones else "")


def _quorum(kind: str, members: int) -> int:
    """More than half of the members; two thirds for the residents' congress."""
    return math.ceil(members * 2 / 3) if kind == "residents_congress" else members // 2 + 1


def _point_inside(rng: random.Random, polygon: Polygon, prepared=None) -> tuple[float, float]:
    prepared = prepared or prep(polygon)
    min_x, min_y, max_x, max_y = polygon.bounds
    for _ in range(1000):
        x, y = round(rng.uniform(min_x, max_x), 6), round(rng.uniform(min_y, max_y), 6)
        if prepared.contains(Point(x, y)):
            return x, y
    point = polygon.representative_point()
    return round(point.x, 6), round(point.y, 6)


@dataclass
class _Grid:
    area: Area
    index: int
    yuan: str
    polygon: Polygon
    inner: Polygon
    prepared: object
    participation: float
    buildings: list[Area]
    building_points: dict[int, tuple[float, float]]
    residents: list[Person] = None
    participants: list[Person] = None
    leader: Person = None
    leader_actor: Actor = None
    issue_weight: float = 1.0


@dataclass
class _VolunteerPlan:
    volunteer: Volunteer
    person: Person
    stars: int
    target: float
    record_hours: tuple[float, float]
    start: date
    end: date
    skills: list[str]
    assigned: float = 0.0

    @property
    def remaining(self) -> float:
        return self.target - self.assigned

    def active_on(self, day: date) -> bool:
        return self.start <= day <= self.end


# ---------------------------------------------------------------------------------------------
# The builder


class _DemoBuilder:
    def __init__(self, session: Session, *, today: date, as_of: datetime):
        self.session = session
        self.today = today
        self.as_of = as_of
        self.midnight = datetime.combine(today, time())
        self.names = load_demo_data("names")
        self.community_cfg = load_demo_data("community")
        self.org_cfg = load_demo_data("organisations")
        self.issue_cfg = load_demo_data("issues")
        self.event_cfg = load_demo_data("events")
        self.meeting_cfg = load_demo_data("meetings")
        self.volunteer_cfg = load_demo_data("volunteers")
        self.used_names: set[str] = set()
        self.used_phones: set[str] = set()
        self.service_rows: list[dict] = []
        self.action_spans: list[tuple[Issue, datetime, datetime]] = []
        self.agenda: dict[int, list[AgendaItem]] = defaultdict(list)

    @staticmethod
    def rng(section: str) -> random.Random:
        # One stream per section: changing one part of the demo leaves the others as they were.
        return random.Random(f"{SEED}:{section}")

    def at(self, days_ago: int, clock_time: time) -> datetime:
        return datetime.combine(self.today - timedelta(days=days_ago), clock_time)

    def build(self) -> None:
        self.build_areas()
        self.build_facilities()
        self.build_people()
        self.build_organisations()
        self.build_volunteers()
        self.build_events()
        self.build_meetings()
        self.build_issues()
        self.build_agendas()
        self.build_service_records()
        # Anything left unrated for the rating window by "now" closes, as the nightly sweep does.
        with clock.frozen(self.as_of):
            lifecycle.close_expired_reviews(session=self.session, actor=SYSTEM_ACTOR)

    # -- areas ------------------------------------------------------------------------------

    def build_areas(self) -> None:
        rng = self.rng("areas")
        cfg = self.community_cfg
        session = self.session
        centre, size = cfg["centre"], cfg["size_km"]
        polygons = grid_polygons(rng, lon=centre["lon"], lat=centre["lat"], width_km=size["width"],
                                 height_km=size["height"])
        outline = unary_union(polygons)
        total_population = sum(g["population"] for g in cfg["grids"])
        households = [round(g["population"] / rng.uniform(2.55, 2.85)) for g in cfg["grids"]]
        centre_point = outline.centroid

        street = Area(code=cfg["street"]["code"], name=cfg["street"]["name"], level=AreaLevel.STREET.value,
                      population=total_population, households=sum(households),
                      centroid_lon=round(centre_point.x, 6), centroid_lat=round(centre_point.y, 6))
        session.add(street)
        session.flush()
        community = Area(code=cfg["community"]["code"], name=cfg["community"]["name"],
                         level=AreaLevel.COMMUNITY.value, parent_id=street.id, population=total_population,
                         households=sum(households), boundary=_geojson(outline) if outline.geom_type == "Polygon" else None,
                         centroid_lon=round(centre_point.x, 6), centroid_lat=round(centre_point.y, 6))
        session.add(community)
        session.flush()
        self.community = community

        grid_areas = []
        for index, (grid_cfg, polygon) in enumerate(zip(cfg["grids"], polygons, strict=True), start=1):
            centroid = polygon.centroid
            grid_areas.append(Area(
                code=f"{community.code}-G{index:02d}", name=grid_cfg["name"], level=AreaLevel.GRID.value,
                parent_id=community.id, population=grid_cfg["population"], households=households[index - 1],
                boundary=_geojson(polygon), centroid_lon=round(centroid.x, 6), centroid_lat=round(centroid.y, 6)))
        session.add_all(grid_areas)
        session.flush()

        self.grids: list[_Grid] = []
        buildings: list[Area] = []
        number = 0
        for index, (grid_cfg, polygon, area) in enumerate(zip(cfg["grids"], polygons, grid_areas, strict=True), start=1):
            inner = polygon.buffer(-0.0003)
            grid = _Grid(area=area, index=index, yuan=grid_cfg["yuan"], polygon=polygon, inner=inner,
                         prepared=prep(polygon), participation=grid_cfg["participation"], buildings=[],
                         building_points={})
            count = grid_cfg["buildings"]
            populations = _split(area.population, [rng.uniform(0.7, 1.3) for _ in range(count)])
            inner_prepared = prep(inner)
            for population in populations:
                number += 1
                lon, lat = _point_inside(rng, inner, inner_prepared)
                building = Area(code=f"{area.code}-B{number:02d}", name=f"{number}栋", level=AreaLevel.BUILDING.value,
                                parent_id=area.id, population=population,
                                households=round(population / rng.uniform(2.55, 2.85)),
                                centroid_lon=lon, centroid_lat=lat)
                grid.buildings.append(building)
                buildings.append(building)
            self.grids.append(grid)
        session.add_all(buildings)
        session.flush()
        for grid in self.grids:
            grid.building_points = {b.id: (b.centroid_lon, b.centroid_lat) for b in grid.buildings}

        every = cfg["units_every_nth_building"]
        units = []
        for position, building in enumerate(buildings, start=1):
            if position % every:
                continue
            parts = _split(building.population, [1.0, 1.0])
            for unit_no, population in enumerate(parts, start=1):
                units.append(Area(code=f"{building.code}-U{unit_no}", name=f"{unit_no}单元", level=AreaLevel.UNIT.value,
                                  parent_id=building.id, population=population,
                                  households=round(population / 2.7),
                                  centroid_lon=building.centroid_lon, centroid_lat=building.centroid_lat))
        session.add_all(units)
        session.flush()
        self.grid_by_id = {grid.area.id: grid for grid in self.grids}

    # -- facilities -------------------------------------------------------------------------

    def build_facilities(self) -> None:
        """A few public facilities per grid (data/demo/facilities.json), each at a point well inside its grid."""
        rng = self.rng("facilities")
        facilities = []
        for entry in load_demo_data("facilities")["facilities"]:
            grid = self.grids[entry["grid"] - 1]
            lon, lat = _point_inside(rng, grid.inner)
            facilities.append(Facility(name=entry["name"], kind=FacilityKind(entry["kind"]).value,
                                       grid_id=grid.area.id, lon=lon, lat=lat))
        self.session.add_all(facilities)
        self.session.flush()

    # -- people -----------------------------------------------------------------------------

    def _name(self, rng: random.Random, birth_year: int, sex: str) -> str:
        surnames = self.names["surnames"]
        generation = "old" if birth_year <= 1965 else "mid" if birth_year <= 1990 else "young"
        pool = self.names["given"][generation][sex]
        name = ""
        for _ in range(30):
            surname = rng.choices([s for s, _ in surnames], [w for _, w in surnames])[0]
            name = surname + rng.choice(pool)
            if name not in self.used_names:
                break
        self.used_names.add(name)
        return name

    def _mobile(self, rng: random.Random) -> str:
        prefixes = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
                    "155", "157", "158", "159", "176", "180", "181", "186", "187", "188", "189"]
        while True:
            raw = rng.choice(prefixes) + "".join(str(rng.randrange(10)) for _ in range(8))
            phone = normalise_phone(raw)
            if phone not in self.used_phones:
                self.used_phones.add(phone)
                return phone

    def _landline(self, rng: random.Random) -> str:
        while True:
            raw = "0755" + rng.choice("2368") + "".join(str(rng.randrange(10)) for _ in range(7))
            phone = normalise_phone(raw)
            if phone not in self.used_phones:
                self.used_phones.add(phone)
                return phone

    @staticmethod
    def _birth_year(rng: random.Random) -> int:
        r = rng.random()
        if r < 0.30:
            return rng.randint(1938, 1960)
        if r < 0.72:
            return rng.randint(1961, 1988)
        if r < 0.92:
            return rng.randint(1989, 2006)
        return rng.randint(2007, 2018)

    def _person(self, rng: random.Random, grid: _Grid, *, birth_year: int | None = None, phone: bool | None = None) -> Person:
        birth_year = birth_year or self._birth_year(rng)
        sex = rng.choice("mf")
        buildings = grid.buildings
        building = rng.choices(buildings, [b.population for b in buildings])[0]
        if phone is None:
            phone = birth_year <= 2008 and rng.random() < 0.93
        created = self.midnight - timedelta(days=rng.randint(380, 1500), minutes=rng.randint(0, 600))
        return Person(name=self._name(rng, birth_year, sex), phone=self._mobile(rng) if phone else None,
                      grid_id=grid.area.id, building_id=building.id, birth_year=birth_year, created_at=created)

    def build_people(self) -> None:
        rng = self.rng("people")
        session = self.session
        # Grid leaders first (网格长), then the committee's staff, then the residents of each grid.
        for grid in self.grids:
            grid.leader = self._person(rng, grid, birth_year=rng.randint(1968, 1992), phone=True)
        staff_grids = [self.grids[i] for i in (0, 3, 7, 1, 9)]
        self.staff = [self._person(rng, grid, birth_year=rng.randint(1966, 1988), phone=True) for grid in staff_grids]
        session.add_all([grid.leader for grid in self.grids] + self.staff)
        session.flush()
        for grid in self.grids:
            grid.area.leader_id = grid.leader.id
            grid.leader_actor = Actor(name=grid.leader.name, role=Role.LEADER, grid_ids=frozenset({grid.area.id}))
        self.director = Actor(name=self.staff[0].name, role=Role.COMMITTEE)
        self.secretary = Actor(name=self.staff[1].name, role=Role.COMMITTEE)

        everyone = []
        for grid in self.grids:
            wanted = round(grid.participation * grid.area.population)
            extra = rng.randint(40, 60) + round(grid.area.population / 40)
            grid.residents = [self._person(rng, grid) for _ in range(wanted + extra)]
            everyone.extend(grid.residents)
        session.add_all(everyone)
        session.flush()
        for grid in self.grids:
            wanted = round(grid.participation * grid.area.population)
            weights = [1.6 if p.birth_year <= 1960 else 1.2 if p.birth_year >= 2007 else 1.0 for p in grid.residents]
            # Event-goers of the grid; the first third are the regulars.
            grid.participants = _weighted_sample(rng, grid.residents, weights, wanted)
        # Resident representatives (居民代表): the engaged ones, at least two per grid.
        representatives = []
        for grid in self.grids:
            adults = [p for p in grid.participants if p.birth_year <= 1995]
            representatives.extend(adults[: max(2, min(6, round(len(adults) / 30)))])
        rng.shuffle(representatives)
        self.representatives = representatives

    # -- organisations ------------------------------------------------------------------------

    def build_organisations(self) -> None:
        rng = self.rng("organisations")
        organisations = []
        for cfg in self.org_cfg["organisations"]:
            if cfg["key"] == "committee":
                contact = self.staff[0].name
            else:
                birth_year = rng.randint(1960, 1990)
                contact = self._name(rng, birth_year, rng.choice("mf"))
            phone = self._landline(rng) if cfg["phone"] == "landline" else self._mobile(rng)
            organisations.append(Organisation(name=cfg["name"], kind=cfg["kind"], contact_name=contact,
                                              contact_phone=phone, description=cfg["description"]))
        self.session.add_all(organisations)
        self.session.flush()
        self.org = {cfg["key"]: org for cfg, org in zip(self.org_cfg["organisations"], organisations, strict=True)}

    # -- volunteers ---------------------------------------------------------------------------

    def _skills(self, rng: random.Random, birth_year: int) -> list[str]:
        young = ["tutoring", "it_help", "photography", "translation", "sports", "child_care", "first_aid"]
        old = ["elderly_care", "mediation", "arts", "repairs", "sports", "first_aid", "legal_aid"]
        preferred = young if birth_year >= 1985 else old
        weights = [3.0 if s in preferred else 0.6 for s in VOLUNTEER_SKILLS]
        count = rng.choices([1, 2, 3], [0.35, 0.45, 0.2])[0]
        chosen = _weighted_sample(rng, VOLUNTEER_SKILLS, weights, count)
        return [s for s in VOLUNTEER_SKILLS if s in chosen]

    def _volunteer_people(self, rng: random.Random, total: int) -> list[Person]:
        """Who volunteers, the most dedicated first (mostly retirees)."""
        counts = _split(total, [len(g.participants) + 25 for g in self.grids])
        chosen: list[Person] = []
        for grid, count in zip(self.grids, counts, strict=True):
            adults = [p for p in grid.residents if p.birth_year <= 2008]
            weights = [2.2 if p.birth_year <= 1962 else 1.0 for p in adults]
            chosen.extend(_weighted_sample(rng, adults, weights, count))
        return sorted(chosen, key=lambda p: -(rng.random() * (2.0 if p.birth_year <= 1962 else 1.0)))

    def _volunteer_span(self, rng: random.Random, tier: dict, joined: date) -> tuple[VolunteerStatus, date, date, str]:
        """A volunteer's status, the days they served (start, end) and the note on a pause or leave."""
        cfg = self.volunteer_cfg
        status = VolunteerStatus.ACTIVE
        r = rng.random()
        if tier["stars"] <= 2 and (self.today - joined).days > 120:
            if r < (0.08 if tier["stars"] == 2 else 0.12):
                status = VolunteerStatus.PAUSED
            elif r < (0.1 if tier["stars"] == 2 else 0.2):
                status = VolunteerStatus.LEFT
        start = max(joined, self.today - timedelta(days=SERVICE_YEARS_DAYS))
        end = self.today
        note = ""
        if status == VolunteerStatus.PAUSED:
            end = max(start + timedelta(days=30), self.today - timedelta(days=rng.randint(30, 200)))
            note = rng.choice(cfg["paused_notes"])
        elif status == VolunteerStatus.LEFT:
            end = max(start + timedelta(days=30), self.today - timedelta(days=rng.randint(60, 400)))
            note = rng.choice(cfg["left_notes"])
        end = min(end, self.today)
        month_start = self.today.replace(day=1)
        if end >= month_start and status != VolunteerStatus.ACTIVE:
            end = month_start - timedelta(days=1)
        return status, start, end, note

    def build_volunteers(self) -> None:
        rng = self.rng("volunteers")
        cfg = self.volunteer_cfg
        scored = self._volunteer_people(rng, cfg["count"])
        tiers = [tier for tier in cfg["tiers"] for _ in range(tier["count"])]
        if len(tiers) != len(scored):
            raise AssertionError("volunteer tiers must add up to the volunteer count")

        plans: list[_VolunteerPlan] = []
        volunteers = []
        for person, tier in zip(scored, tiers, strict=True):
            joined = self.today - timedelta(days=rng.randint(*tier["joined_days"]))
            status, start, end, note = self._volunteer_span(rng, tier, joined)
            skills = self._skills(rng, person.birth_year)
            target = _half_hours(rng, *tier["hours"])
            volunteer = Volunteer(person_id=person.id, grid_id=person.grid_id, skills=",".join(skills),
                                  status=status.value, joined_on=joined, note=note)
            volunteers.append(volunteer)
            plans.append(_VolunteerPlan(volunteer=volunteer, person=person, stars=tier["stars"], target=target,
                                        record_hours=tuple(tier["record_hours"]), start=start, end=end, skills=skills))
        self.session.add_all(volunteers)
        self.session.flush()
        self.volunteer_plans = plans
        self.session.add_all(self._memberships(rng, plans))
        self.session.flush()

    def _memberships(self, rng: random.Random, plans: list[_VolunteerPlan]) -> list[TeamMembership]:
        memberships = []
        for plan in plans:
            for key, team in self.volunteer_cfg["teams"].items():
                chance = team["share"]
                if team.get("skills"):
                    chance *= 2.5 if set(team["skills"]) & set(plan.skills) else 0.35
                if key == "vol_youth":
                    chance = chance * 3 if plan.person.birth_year >= 1995 else chance * 0.2
                if rng.random() < min(chance, 0.95):
                    memberships.append(TeamMembership(volunteer_id=plan.volunteer.id, organisation_id=self.org[key].id))
        return memberships

    # -- events and attendance ------------------------------------------------------------

    def _past_event_plans(self, rng: random.Random, grid_weights: list[float]) -> list[tuple]:
        """(template, grid, starts_at, named target) of every past event, in time order."""
        plans = []
        first_day, last_day = PAST_EVENT_DAYS
        for template in self.event_cfg["past"]:
            for _ in range(template["count"]):
                grid = rng.choices(self.grids, grid_weights)[0] if template["scope"] == "grid" else None
                days = list(range(first_day, last_day + 1))
                if template.get("months"):
                    days = [d for d in days if (self.today - timedelta(days=d)).month in template["months"]]
                days_ago = rng.choice(days)
                starts = self.at(days_ago, _clock_time(template["start"]))
                plans.append((template, grid, starts, rng.randint(*template["size"])))
        plans.sort(key=lambda p: (p[2], p[0]["title"]))
        return plans

    def _upcoming_events(self, rng: random.Random, grid_weights: list[float]) -> list[Event]:
        upcoming = []
        for template in self.event_cfg["upcoming"]:
            grid = rng.choices(self.grids, grid_weights)[0] if template["scope"] == "grid" else None
            starts = datetime.combine(self.today + timedelta(days=template["days"]), _clock_time(template["start"]))
            event = self._event(rng, template, grid, starts, headcount=0)
            event.capacity = template["capacity"]
            upcoming.append(event)
        return upcoming

    def _named_attendance(self, rng: random.Random, plans: list[tuple], grid_weights: list[float]) -> list[list[int]]:
        """Who attended each past event. Every event-goer of a grid takes part at least once; the
        regulars fill the rest. Only a grid's chosen event-goers ever attend, which fixes each
        grid's participation rate (unique attendees ÷ population) at its configured share."""
        attendees: list[list[int]] = [[] for _ in plans]
        seen: list[set[int]] = [set() for _ in plans]

        def attend(index: int, person: Person) -> None:
            if person.id not in seen[index]:
                seen[index].add(person.id)
                attendees[index].append(person.id)

        community_events = [i for i, (_, grid, _, _) in enumerate(plans) if grid is None]
        for grid in self.grids:
            own = [i for i, (_, g, _, _) in enumerate(plans) if g is grid]
            options, weights = own + community_events, [3.0] * len(own) + [1.0] * len(community_events)
            for person in grid.participants:
                attend(rng.choices(options, weights)[0], person)
        for index, (_, grid, _, target) in enumerate(plans):
            tries = 0
            while len(attendees[index]) < target and tries < target * 12:
                tries += 1
                source = grid if grid is not None and rng.random() < 0.85 else rng.choices(self.grids, grid_weights)[0]
                pool = source.participants
                regulars = pool[: max(1, len(pool) // 3)]
                attend(index, rng.choice(regulars if rng.random() < 0.6 else pool))
        return attendees

    def build_events(self) -> None:
        rng = self.rng("events")
        grid_weights = [max(len(g.participants), 1) ** 0.9 for g in self.grids]
        plans = self._past_event_plans(rng, grid_weights)
        events = [self._event(rng, template, grid, starts, headcount=rng.randint(*template["headcount"]))
                  for template, grid, starts, _ in plans]
        upcoming = self._upcoming_events(rng, grid_weights)
        attendees = self._named_attendance(rng, plans, grid_weights)
        for index, event in enumerate(events):
            template = plans[index][0]
            named = len(attendees[index])
            if template["capacity"]:
                event.capacity = max(20, math.ceil((named + event.headcount) * rng.uniform(1.05, 1.4) / 10) * 10)
            else:
                event.capacity = None
        self.session.add_all(events + upcoming)
        self.session.flush()
        rows = [{"event_id": event.id, "person_id": pid} for event, ids in zip(events, attendees, strict=True) for pid in ids]
        self.session.execute(insert(Attendance), rows)
        self.past_events = [(event, plans[i][0]) for i, event in enumerate(events)]
        self.named_attendance = {event.id: len(ids) for event, ids in zip(events, attendees, strict=True)}

    def _event(self, rng: random.Random, template: dict, grid: _Grid | None, starts: datetime, *, headcount: int) -> Event:
        places = self.community_cfg["places"]
        fill = {"y": grid.yuan if grid else "", "p": rng.choice(places),
                "topic": rng.choice(self.event_cfg["deliberation_topics"])}
        host = self.org[template["host"]]
        return Event(title=template["title"].format(**fill), kind=template["kind"], host_org_id=host.id,
                     grid_id=grid.area.id if grid else None, starts_at=starts,
                     ends_at=starts + timedelta(hours=template["hours"]), place=template["place"].format(**fill),
                     headcount=headcount, description=template["description"])

    # -- meetings -------------------------------------------------------------------------

    def build_meetings(self) -> None:
        rng = self.rng("meetings")
        cfg = self.meeting_cfg
        leaders = [g.leader.name for g in self.grids]
        staff = [p.name for p in self.staff]
        reps = [p.name for p in self.representatives]
        partners = [self.org[k].contact_name for k in ("social_work", "foundation", "property", "property_south",
                                                       "urban_mgmt", "police", "fire", "housing", "health", "owners",
                                                       "mediation")]
        members_by_kind = {
            "deliberation": staff + leaders + reps[:20],
            "committee": staff + leaders,
            "joint": staff + leaders[:6] + partners + reps[:8],
            "residents_congress": staff + leaders + reps,
        }
        self.held_meetings: list[tuple[Meeting, bool]] = []
        self.meeting_members: dict[int, int] = {}
        meetings = []
        for spec in cfg["held"]:
            held_at = self.at(spec["days"], _clock_time(spec["start"]))
            members = members_by_kind[spec["kind"]]
            quorum = _quorum(spec["kind"], len(members))
            missed = bool(spec.get("quorum_missed"))
            present = quorum - rng.randint(2, 5) if missed else rng.randint(quorum + 1, len(members))
            chosen = staff[:2] + _weighted_sample(rng, members[2:], [1.0] * (len(members) - 2), present - 2)
            order = {name: i for i, name in enumerate(members)}
            chosen.sort(key=order.__getitem__)
            meeting = Meeting(title=self._meeting_title(spec["kind"], held_at), kind=spec["kind"], held_at=held_at,
                              place=cfg["places"][spec["kind"]], status=MeetingStatus.HELD.value,
                              attendees="\n".join(chosen), quorum=quorum, quorum_met=not missed,
                              invited="\n".join(members), chair=staff[0], recorder=staff[1])
            meetings.append(meeting)
            self.held_meetings.append((meeting, missed))
            self.meeting_members[spec["days"]] = len(members)
        spec = cfg["planned"]
        held_at = datetime.combine(self.today + timedelta(days=spec["days"]), _clock_time(spec["start"]))
        members = members_by_kind[spec["kind"]]
        self.planned_meeting = Meeting(title=self._meeting_title(spec["kind"], held_at), kind=spec["kind"],
                                       held_at=held_at, place=cfg["places"][spec["kind"]],
                                       status=MeetingStatus.PLANNED.value, attendees="",
                                       invited="\n".join(members), chair=staff[0], recorder=staff[1],
                                       quorum=_quorum(spec["kind"], len(members)), quorum_met=None)
        self.session.add_all(meetings + [self.planned_meeting])
        self.session.flush()
        self.held_times = [m.held_at for m, _ in self.held_meetings]

    def _meeting_title(self, kind: str, held_at: datetime) -> str:
        label = self.meeting_cfg["kind_titles"][kind]
        if kind == "residents_congress":
            return f"{held_at.year}年度{label}"
        if kind == "joint":
            return f"{held_at.year}年第{CN_NUMERALS[(held_at.month - 1) // 3]}季度{label}"
        return f"{held_at.year}年{held_at.month}月{label}"

    # -- issues ---------------------------------------------------------------------------

    def _issue_moments(self, rng: random.Random) -> list[datetime]:
        """When each issue was reported, in time order: a busy last week, then a year thinning out."""
        moments = []
        for i in range(N_ISSUES):
            if i < N_RECENT_ISSUES:
                days_ago = rng.randint(0, 6)
            else:
                days_ago = 1 + int(rng.random() ** 1.15 * 362)
            moment = self.at(days_ago, time(rng.choices(range(7, 23), [1, 3, 4, 4, 3, 3, 2, 3, 3, 3, 2, 3, 4, 4, 3, 2])[0],
                                            rng.randrange(60), rng.randrange(60)))
            if moment > self.as_of - timedelta(minutes=30):
                moment = self.as_of - timedelta(hours=rng.uniform(0.5, 30))
                moment = moment.replace(microsecond=0)
            moments.append(moment)
        moments.sort()
        return moments

    def _issue_text(self, rng: random.Random, grid: _Grid, original: Issue | None) -> tuple[str, int | None, str, str]:
        """(category, building id, title, description): a repeat of `original`, or from a template."""
        if original is not None:
            return (original.category, original.building_id, original.title,
                    "另一位居民反映同一问题：" + original.description)
        categories = self.issue_cfg["categories"]
        codes = list(categories)
        category = rng.choices(codes, [categories[c]["weight"] for c in codes])[0]
        templates = categories[category]["templates"]
        with_building = rng.random() < 0.8
        usable = [t for t in templates if ("{b}" in t[0] + t[1]) == with_building] or templates
        template = rng.choice(usable)
        needs_building = "{b}" in template[0] + template[1]
        building = rng.choice(grid.buildings) if needs_building or rng.random() < 0.3 else None
        fill = {"b": building.name if building else "", "y": grid.yuan, "p": rng.choice(self.community_cfg["places"])}
        return category, building.id if building else None, template[0].format(**fill), template[1].format(**fill)

    @staticmethod
    def _reporter(rng: random.Random, grid: _Grid, channel: str) -> Person | None:
        if channel == "patrol":
            return grid.leader
        if channel == "anonymous" or (channel == "hotline" and rng.random() < 0.5):
            return None
        return rng.choice(grid.residents)

    @staticmethod
    def _issue_point(rng: random.Random, grid: _Grid, building_id: int | None) -> tuple[float, float]:
        """(lon, lat): by the building when known, else anywhere inside the grid."""
        if building_id is None:
            return _point_inside(rng, grid.polygon, grid.prepared)
        lon, lat = grid.building_points[building_id]
        lon, lat = round(lon + rng.uniform(-0.0002, 0.0002), 6), round(lat + rng.uniform(-0.0002, 0.0002), 6)
        if not grid.prepared.contains(Point(lon, lat)):
            lon, lat = grid.building_points[building_id]
        return lon, lat

    def _record_created(self, rng: random.Random, issues: list[Issue], plans: list[tuple]) -> None:
        """Each issue's "created" line, by whoever took the report through its channel."""
        for issue, (grid, channel, _) in zip(issues, plans, strict=True):
            if channel == "patrol":
                actor = grid.leader_actor
            elif channel == "hotline":
                actor = self.secretary
            else:
                actor = grid.leader_actor if rng.random() < 0.6 else self.secretary
            note = rng.choice(self.issue_cfg["channels"][channel])
            timeline.record(self.session, issue_id=issue.id, kind="created", actor=actor, at=issue.reported_at,
                            to_state=S.REPORTED.value, note=note)

    def build_issues(self) -> None:
        rng = self.rng("issues")
        self.issue_rng = rng
        if set(self.issue_cfg["categories"]) != set(ISSUE_CATEGORIES):
            raise AssertionError("data/demo/issues.json must cover exactly domain.ISSUE_CATEGORIES")
        for grid in self.grids:
            grid.issue_weight = grid.area.population * rng.uniform(0.6, 1.5)

        issues, plans = [], []
        recent_by_grid: dict[int, list[int]] = defaultdict(list)  # positions of earlier issues
        for position, reported_at in enumerate(self._issue_moments(rng)):
            grid = rng.choices(self.grids, [g.issue_weight for g in self.grids])[0]
            original = None
            if rng.random() < 0.045:
                window = [j for j in recent_by_grid[grid.area.id]
                          if reported_at - issues[j].reported_at <= timedelta(days=20)]
                original = issues[window[-1]] if window else None
            category, building_id, title, description = self._issue_text(rng, grid, original)
            channel = rng.choices(["resident", "patrol", "hotline", "anonymous"], [0.55, 0.2, 0.1, 0.15])[0]
            reporter = self._reporter(rng, grid, channel)
            lon, lat = self._issue_point(rng, grid, building_id)
            issue = Issue(title=title[:120], description=description, category=category, grid_id=grid.area.id,
                          building_id=building_id, reporter_id=reporter.id if reporter else None,
                          **lifecycle.created_fields(category, reported_at), lat=lat, lon=lon)
            recent_by_grid[grid.area.id].append(position)
            issues.append(issue)
            plans.append((grid, channel, original))
        self.session.add_all(issues)
        self.session.flush()
        self._record_created(rng, issues, plans)
        self.session.flush()

        self.issues = issues
        self.pending_meeting: list[Issue] = []
        for issue, (grid, _, original) in zip(issues, plans, strict=True):
            self._advance(issue, grid, original)

    # Each step happens at a realistic time after the previous one, through the lifecycle, with
    # the clock frozen at that time. A step that would fall after "now" does not happen (yet).

    def _move(self, issue: Issue, at: datetime, to_state: IssueState, actor: Actor, **kwargs) -> bool:
        if at > self.as_of:
            return False
        with clock.frozen(at.replace(microsecond=0)):
            lifecycle.move(session=self.session, issue_id=issue.id, to_state=to_state.value, actor=actor, **kwargs)
        return True

    def _note(self, issue: Issue, at: datetime, kind: str, actor: Actor, note: str, meeting_id: int | None = None) -> None:
        if at <= self.as_of:
            timeline.record(self.session, issue_id=issue.id, kind=kind, actor=actor, from_state=issue.state,
                            to_state=issue.state, note=note, meeting_id=meeting_id, at=at.replace(microsecond=0))

    def _lead_for(self, category: str) -> Organisation:
        return self.org[self.issue_rng.choice(self.issue_cfg["categories"][category]["lead"])]

    def _advance(self, issue: Issue, grid: _Grid, original: Issue | None) -> None:
        rng = self.issue_rng
        cfg = self.issue_cfg
        category = cfg["categories"][issue.category]
        leader = grid.leader_actor
        r = rng.random()
        delay = rng.uniform(1.5, 20) if r < 0.6 else rng.uniform(20, 48) if r < 0.9 else rng.uniform(48, 120)
        t = issue.reported_at + timedelta(hours=delay)
        if not self._move(issue, t, S.GRID_REVIEW, leader, note=rng.choice(cfg["accept_notes"])):
            return
        if rng.random() < 0.05:  # needs a longer look: site visits, finding the owner, …
            t += timedelta(days=rng.uniform(6, 25))

        fate = rng.random()
        if original is not None or fate < 0.065:
            t += timedelta(hours=rng.uniform(2, 48))
            if original is not None:
                note = cfg["reject_notes"]["duplicate"][0].format(n=original.id)
                self._move(issue, t, S.REJECTED, leader, note=note, reject_reason=RejectReason.DUPLICATE.value,
                           duplicate_of_id=original.id)
            else:
                reason = RejectReason.NOT_RESPONSIBLE if rng.random() < 0.6 else RejectReason.WITHDRAWN
                self._move(issue, t, S.REJECTED, leader, note=rng.choice(cfg["reject_notes"][reason.value]),
                           reject_reason=reason.value)
            return
        if rng.random() < category["meeting"] * MEETING_SHARE_FACTOR:
            t += timedelta(hours=rng.uniform(12, 96))
            if self._move(issue, t, S.MEETING, leader, note=rng.choice(cfg["to_meeting_notes"])):
                self._meetings(issue, grid, t)
            return
        direct = 0.45 if issue.category in ("noise", "neighbour_dispute") else 0.25
        if rng.random() < direct:
            t += timedelta(hours=rng.uniform(2, 72))
            note = f"{rng.choice(cfg['local_resolve_notes'])}：{rng.choice(category['done'])}"
            if self._move(issue, t, S.RESIDENT_REVIEW, leader, note=note):
                self._review(issue, grid, t, reopened=0)
            return
        t += timedelta(hours=rng.uniform(2, 48))
        lead = self._lead_for(issue.category)
        if self._move(issue, t, S.IN_ACTION, leader, lead_org_id=lead.id,
                      note=f"{rng.choice(cfg['local_resolve_notes'])}，交由{lead.name}牵头办理"):
            self._in_action(issue, grid, t, reopened=0)

    def _in_action(self, issue: Issue, grid: _Grid, start: datetime, *, reopened: int) -> None:
        rng = self.issue_rng
        category = self.issue_cfg["categories"][issue.category]
        leader = grid.leader_actor
        sla_days = service_levels(issue.category)[1]
        available = max(2.0, (datetime.combine(issue.due_date, time(18)) - start).total_seconds() / 86400)
        if reopened:
            days = rng.uniform(2, 12)
        elif rng.random() < 0.06:
            days = rng.uniform(60, 200)  # stuck: waiting for money, an owner, another department …
        elif rng.random() < 0.8:
            days = rng.uniform(0.25, 0.95) * available
        else:
            days = rng.uniform(1.05, 1.7) * max(available, sla_days * 0.5)
        end = start + timedelta(days=days)

        if not reopened and rng.random() < 0.3:
            keys = [k for k in category["cooperate"] if self.org[k].id != issue.lead_org_id]
            helpers = sorted({self.org[k].id: self.org[k] for k in rng.sample(keys, min(len(keys), rng.randint(1, 2)))}.values(),
                             key=lambda o: o.id)
            at = start + timedelta(minutes=rng.randint(10, 240))
            if helpers and at <= self.as_of and at < end:
                self.session.add_all([IssueCooperator(issue_id=issue.id, organisation_id=o.id) for o in helpers])
                lead = self.session.get(Organisation, issue.lead_org_id)
                summary = " · ".join([lead.name, issue.due_date.isoformat(), "+ " + ", ".join(o.name for o in helpers)])
                self._note(issue, at, "assignment", self.secretary if issue.went_to_meeting else leader, summary)
        steps = rng.randint(1, 2) if days > 3 else rng.randint(0, 1)
        for k in range(steps):
            at = start + (end - start) * (k + 1) / (steps + 1)
            self._note(issue, at, "progress", leader, rng.choice(category["progress"]))
        self.action_spans.append((issue, start, min(end, self.as_of)))
        actor = leader if rng.random() < 0.7 else self.secretary
        if self._move(issue, end, S.RESIDENT_REVIEW, actor, note=f"已办结：{rng.choice(category['done'])}"):
            self._review(issue, grid, end, reopened=reopened)

    def _review(self, issue: Issue, grid: _Grid, resolved: datetime, *, reopened: int) -> None:
        rng = self.issue_rng
        cfg = self.issue_cfg
        if rng.random() < 0.78:
            at = resolved + timedelta(hours=rng.uniform(6, 24 * 10))
            if at > self.as_of:
                return
            if reopened:
                rating = rng.choices([5, 4, 3, 2, 1], [40, 40, 14, 4, 2])[0]
            else:
                rating = rng.choices([5, 4, 3, 2, 1], [48, 30, 11, 6, 5])[0]
            fix = self._fix_status(rng, rating)
            if issue.lead_org_id is None and (rating <= REOPEN_MAX_RATING or fix == FixStatus.NOT_FIXED):
                # Resolved on the spot without a lead organisation: lifecycle.rate cannot reopen it
                # (in_action needs a lead), so such a rating would be refused. Keep it mediocre.
                rating, fix = 3, FixStatus.PARTLY_FIXED
            comment = cfg["rating_intro"] + rng.choice(cfg["rating_comments"][str(rating)])
            with clock.frozen(at.replace(microsecond=0)):
                lifecycle.rate(session=self.session, issue_id=issue.id, rating=rating, fix_status=fix.value,
                               actor=grid.leader_actor, comment=comment)
            if issue.state == S.IN_ACTION:  # reopened by the rating
                self._in_action(issue, grid, at, reopened=reopened + 1)
            return
        # Nobody rates: the nightly sweep closes it once the rating window is over.
        expiry = resolved + timedelta(days=RATING_WINDOW_DAYS)
        sweep = datetime.combine(expiry.date() + timedelta(days=1), time(2, 0))
        if sweep <= self.as_of:
            with clock.frozen(sweep):
                lifecycle.close_unrated(session=self.session, issue_id=issue.id, actor=SYSTEM_ACTOR)

    @staticmethod
    def _fix_status(rng: random.Random, rating: int) -> FixStatus:
        if rating >= 5:
            return FixStatus.FIXED if rng.random() < 0.95 else FixStatus.PARTLY_FIXED
        if rating == 4:
            return FixStatus.FIXED if rng.random() < 0.8 else FixStatus.PARTLY_FIXED
        if rating == 3:
            return rng.choices([FixStatus.PARTLY_FIXED, FixStatus.FIXED, FixStatus.NOT_FIXED], [70, 20, 10])[0]
        if rating <= REOPEN_MAX_RATING:
            return FixStatus.NOT_FIXED if rng.random() < 0.7 else FixStatus.PARTLY_FIXED
        return FixStatus.PARTLY_FIXED

    def _meetings(self, issue: Issue, grid: _Grid, entered: datetime) -> None:
        """The issue waits for the next meeting (agenda set a day ahead); deferred, it stays on
        the agenda of the one after; with no held meeting left it waits for the planned one."""
        rng = self.issue_rng
        cfg = self.meeting_cfg
        index = bisect_left(self.held_times, entered + timedelta(days=1))
        deferrals = 0
        while index < len(self.held_meetings):
            meeting, missed = self.held_meetings[index]
            present = len(meeting.attendees.splitlines())
            decided_at = meeting.held_at + timedelta(minutes=rng.randint(80, 130))
            item = AgendaItem(meeting_id=meeting.id, issue_id=issue.id)
            self.agenda[meeting.id].append(item)
            if missed:
                decision = Decision.DEFER
            else:
                r = rng.random()
                defer_chance = 0.14 if deferrals == 0 else 0.04
                decision = (Decision.DEFER if r < defer_chance else Decision.REJECT if r < defer_chance + 0.08
                            else Decision.MERGE if r < defer_chance + 0.11 else Decision.APPROVE)
            merge_target = self._merge_target(issue) if decision == Decision.MERGE else None
            if decision == Decision.MERGE and merge_target is None:
                decision = Decision.APPROVE
            item.decision = decision.value
            if decision != Decision.DEFER or not missed:
                item.votes_for, item.votes_against, item.votes_abstain = self._votes(rng, decision, present)
            if decision == Decision.DEFER:
                note = cfg["quorum_missed_note"] if missed else rng.choice(cfg["defer_notes"])
                item.decision_note = note
                self._note(issue, decided_at, "progress", self.secretary, note, meeting_id=meeting.id)
                deferrals += 1
                index += 1
                continue
            if decision == Decision.APPROVE:
                lead = self._lead_for(issue.category)
                due = decided_at.date() + timedelta(days=rng.randint(14, 50))
                note = rng.choice(cfg["approve_notes"]).format(org=lead.name, due=due.isoformat())
                item.lead_org_id, item.due_date, item.decision_note = lead.id, due, note
                self._move(issue, decided_at, S.IN_ACTION, self.secretary, note=note, lead_org_id=lead.id,
                           due_date=due, meeting_id=meeting.id)
                self._in_action(issue, grid, decided_at, reopened=0)
            elif decision == Decision.REJECT:
                reason = RejectReason.NOT_RESPONSIBLE if rng.random() < 0.7 else RejectReason.WITHDRAWN
                note = rng.choice(cfg["reject_notes"][reason.value])
                item.decision_note = note
                self._move(issue, decided_at, S.REJECTED, self.secretary, note=note, reject_reason=reason.value,
                           meeting_id=meeting.id)
            else:
                note = cfg["merge_note"].format(n=merge_target.id)
                item.decision_note, item.merged_into_id = note, merge_target.id
                self._move(issue, decided_at, S.REJECTED, self.secretary, note=note,
                           reject_reason=RejectReason.DUPLICATE.value, duplicate_of_id=merge_target.id,
                           meeting_id=meeting.id)
            return
        self.pending_meeting.append(issue)

    def _merge_target(self, issue: Issue) -> Issue | None:
        candidates = [other for other in self.issues
                      if other.id < issue.id and other.category == issue.category and other.duplicate_of_id is None
                      and timedelta(0) < issue.reported_at - other.reported_at <= timedelta(days=90)]
        same_grid = [other for other in candidates if other.grid_id == issue.grid_id]
        pool = same_grid or candidates
        return pool[-1] if pool else None

    @staticmethod
    def _votes(rng: random.Random, decision: Decision, present: int) -> tuple[int, int, int]:
        if decision == Decision.REJECT:
            votes_for = rng.randint(1, max(1, present // 4))
            abstain = rng.randint(0, 3)
            return votes_for, present - votes_for - abstain, abstain
        against = rng.randint(0, max(0, min(4, present // 6)))
        abstain = rng.randint(0, 3)
        if decision == Decision.DEFER:
            against = rng.randint(present // 6, present // 3)
        return present - against - abstain, against, abstain

    def build_agendas(self) -> None:
        rng = self.rng("agendas")
        cfg = self.meeting_cfg
        topics = list(cfg["free_topics"])
        rng.shuffle(topics)
        items = []
        for number, (meeting, missed) in enumerate(self.held_meetings):
            present = len(meeting.attendees.splitlines())
            listed = sorted(self.agenda[meeting.id], key=lambda item: item.issue_id)
            for position, item in enumerate(listed, start=1):
                item.position = position
            extra = 2 if meeting.kind in ("residents_congress", "committee") else 1
            for k in range(extra):
                topic = topics[(number * 2 + k) % len(topics)]
                item = AgendaItem(meeting_id=meeting.id, position=len(listed) + 1, topic=topic)
                if missed:
                    item.decision, item.decision_note = Decision.DEFER.value, cfg["quorum_missed_note"]
                else:
                    item.decision = Decision.APPROVE.value
                    item.votes_for, item.votes_against, item.votes_abstain = self._votes(rng, Decision.APPROVE, present)
                    item.decision_note = "审议通过"
                listed.append(item)
            items.extend(listed)
            meeting.minutes = self._minutes(meeting, listed, missed)
        # The planned meeting: every issue still waiting for a meeting, and one free topic.
        waiting = sorted((issue for issue in self.pending_meeting if issue.state == S.MEETING), key=lambda i: i.id)
        planned = [AgendaItem(meeting_id=self.planned_meeting.id, position=p, issue_id=issue.id)
                   for p, issue in enumerate(waiting, start=1)]
        planned.append(AgendaItem(meeting_id=self.planned_meeting.id, position=len(planned) + 1, topic=topics[-1]))
        items.extend(planned)
        self.session.add_all(items)
        self.session.flush()

    def _minutes(self, meeting: Meeting, items: list[AgendaItem], missed: bool) -> str:
        issues = {issue.id: issue for issue in self.issues}
        orgs = {org.id: org for org in self.org.values()}
        present = len(meeting.attendees.splitlines())
        members = self.meeting_members[(self.today - meeting.held_at.date()).days]
        labels = {"approve": "通过并交办", "reject": "不予通过", "defer": "暂缓，下次再议", "merge": "合并办理"}
        lines = [
            f"会议时间：{meeting.held_at:%Y年%m月%d日 %H:%M}",
            f"会议地点：{meeting.place}",
            f"主持人：{self.director.name}（居委会主任）　记录人：{self.secretary.name}（居委会秘书）",
            f"应到{members}人，实到{present}人，法定人数{meeting.quorum}人，"
            + ("未达到法定人数。" if missed else "达到法定人数，会议有效。"),
            "",
            "议题及决定：",
        ]
        for item in items:
            what = f"{issues[item.issue_id].title}（#{item.issue_id}）" if item.issue_id else item.topic
            line = f"{_cn_number(item.position)}、{what}"
            if missed:
                lines += [line, f"　　{labels['defer']}。"]
                continue
            votes = f"赞成{item.votes_for}票，反对{item.votes_against}票，弃权{item.votes_abstain}票"
            decision = labels[item.decision] if item.issue_id else "审议通过"
            if item.decision == "approve" and item.lead_org_id:
                decision += f"，由{orgs[item.lead_org_id].name}牵头，{item.due_date:%Y年%m月%d日}前办结"
            lines += [line, f"　　表决：{votes}。决定：{decision}。"]
            if item.decision_note and item.decision != "approve":
                lines.append(f"　　说明：{item.decision_note}")
        lines += ["", "会议要求：各牵头单位按期办理，办理结果在下次会议上通报，并在社区宣传栏和“桃源居共治”小程序公示。"]
        if missed:
            lines[-1] = "会议决定：" + self.meeting_cfg["quorum_missed_note"] + "。"
        return "\n".join(lines)

    # -- service records ------------------------------------------------------------------

    def _record_service(self, plan: _VolunteerPlan, day: date, hours: float, *, event_id=None, issue_id=None,
                        note="") -> None:
        plan.assigned += hours
        created = min(datetime.combine(day, time(21, 0)), self.as_of)
        self.service_rows.append({"volunteer_id": plan.volunteer.id, "served_on": day, "hours": hours,
                                  "event_id": event_id, "issue_id": issue_id, "note": note[:300], "created_at": created})

    def _event_service(self, rng: random.Random) -> None:
        """Volunteers serving at events: matching skills, the event's grid and the busiest first."""
        for event, template in self.past_events:
            day = event.starts_at.date()
            hours = math.ceil((event.ends_at - event.starts_at).total_seconds() / 1800) / 2 + 1
            wanted = min(8, max(2, round(self.named_attendance[event.id] / 12)))
            candidates = [p for p in self.volunteer_plans if p.active_on(day) and p.remaining >= hours + 2]
            weights = [(3.0 if set(template["skills"]) & set(p.skills) else 1.0)
                       * (2.0 if event.grid_id is not None and p.volunteer.grid_id == event.grid_id else 1.0)
                       * math.sqrt(p.remaining) for p in candidates]
            for plan in _weighted_sample(rng, candidates, weights, wanted):
                self._record_service(plan, day, hours, event_id=event.id, note=event.title)

    def _issue_service(self, rng: random.Random) -> None:
        """Volunteers helping on issues in action (mediation, repairs, visiting the elderly …)."""
        categories = self.issue_cfg["categories"]
        for issue, start, end in self.action_spans:
            skills = set(categories[issue.category]["skills"])
            if not skills or rng.random() > 0.35 or end <= start:
                continue
            day = (start + (end - start) * rng.uniform(0.1, 0.9)).date()
            hours = _half_hours(rng, 1, 3)
            candidates = [p for p in self.volunteer_plans
                          if p.active_on(day) and p.remaining >= hours + 2 and skills & set(p.skills)]
            weights = [3.0 if p.volunteer.grid_id == issue.grid_id else 1.0 for p in candidates]
            for plan in _weighted_sample(rng, candidates, weights, rng.randint(1, 2)):
                self._record_service(plan, day, hours, issue_id=issue.id, note=f"协助办理：{issue.title}")

    def _general_duty(self, rng: random.Random) -> None:
        """General duty makes up the rest of each volunteer's hours."""
        month_start = self.today.replace(day=1)
        for plan in self.volunteer_plans:
            span = (plan.end - plan.start).days
            first = None
            if plan.stars >= 1 and plan.end >= month_start and rng.random() < 0.7:
                low = max(plan.start, month_start)
                first = low + timedelta(days=rng.randint(0, (plan.end - low).days))
            while plan.remaining >= 0.5:
                hours = min(plan.remaining, _half_hours(rng, *plan.record_hours))
                if plan.remaining - hours < 1:
                    hours = plan.remaining
                day = first or plan.start + timedelta(days=rng.randint(0, span))
                first = None
                self._record_service(plan, day, hours, note=rng.choice(self.volunteer_cfg["duty"]))

    def build_service_records(self) -> None:
        rng = self.rng("service")
        rows = self.service_rows
        self._event_service(rng)
        self._issue_service(rng)
        self._general_duty(rng)
        rows.sort(key=lambda row: (row["served_on"], row["volunteer_id"], row["event_id"] or 0, row["issue_id"] or 0))
        self.session.execute(insert(ServiceRecord), rows)
