"""The grid map at district scale (issue 4, "Scale"): 50 communities × 20 grids = 1,000 grids with
irregular boundaries, stored in a temporary SQLite database and drawn exactly as the map page does.

Measures (a) the payload st_folium sends for the map (script + header + html strings), goal at
most about 400 KB, and (b) the draw time in headless Chromium of Gongzhi's map against a bare
folium map of the same simplified polygons, alternately, goal a ratio of at most 1.5×. The ratio
is the median of the ratios of each pair of draws (one of each map, one after the other): the
machine is shared, and a pair sees about the same load where separate medians need not.
Prints a table and writes it to bench/RESULTS.md under "Map at 1,000 grids".

    .venv/bin/python bench/district_map.py [--runs 11] [--no-browser]
"""

import argparse
import functools
import http.server
import json
import math
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import threading
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

import folium  # noqa: E402
from shapely.geometry import Polygon  # noqa: E402
from streamlit_folium import _get_header, _get_html, _get_map_string  # noqa: E402

from components.grid_map import build_grid_map  # noqa: E402
from components.page_setup import PageContext  # noqa: E402
from gongzhi.config import static_url_prefix  # noqa: E402
from gongzhi.db import get_engine, init_db, read_session, write_session  # noqa: E402
from gongzhi.domain import AreaLevel  # noqa: E402
from gongzhi.geo import combined_bounds  # noqa: E402
from gongzhi.models import Area  # noqa: E402
from gongzhi.permissions import Actor, Role  # noqa: E402
from gongzhi.queries.grid_metrics import grid_metrics, grid_shapes  # noqa: E402
from gongzhi.seed_district import CENTRE_LAT, CENTRE_LON, district_polygons  # noqa: E402

PAYLOAD_GOAL_KB = 400
RATIO_GOAL = 1.5
RESULTS = ROOT / "bench" / "RESULTS.md"
RESULTS_HEADING = "## Map at 1,000 grids"


# -- the district ---------------------------------------------------------------------------------

def build_district(url: str, *, communities: int = 50, grids_per_community: int = 20, seed: int = 4) -> list[Polygon]:
    """Create the schema at `url` and store one street, `communities` communities and their grids
    (each community a 5-wide block of the tiling). Returns the grid polygons in stored order."""
    per_row = 5 if grids_per_community % 5 == 0 else grids_per_community
    block_rows = grids_per_community // per_row
    blocks_across = max(1, round(math.sqrt(communities * 2)))  # a district wider than tall
    while communities % blocks_across:
        blocks_across -= 1
    blocks_down = communities // blocks_across
    cols, rows = blocks_across * per_row, blocks_down * block_rows
    polygons = district_polygons(seed, cols=cols, rows=rows)
    rng = random.Random(seed + 1)
    engine = get_engine(url)
    init_db(engine)
    with write_session(engine) as session:
        street = Area(code="BENCH-S", name="基准街道", level=AreaLevel.STREET.value)
        session.add(street)
        session.flush()
        for n in range(communities):
            bx, by = n % blocks_across, n // blocks_across
            community = Area(code=f"C{n + 1:02d}", name=f"第{n + 1}社区", level=AreaLevel.COMMUNITY.value,
                             parent_id=street.id)
            session.add(community)
            session.flush()
            for g in range(grids_per_community):
                x, y = bx * per_row + g % per_row, by * block_rows + g // per_row
                polygon = polygons[y * cols + x]
                ring = [[x_, y_] for x_, y_ in polygon.exterior.coords]
                population = rng.randint(800, 3000)
                session.add(Area(
                    code=f"C{n + 1:02d}-G{g + 1:02d}", name=f"第{g + 1}网格（{rng.choice('桂花梧桐枫叶翠竹')}苑）",
                    level=AreaLevel.GRID.value, parent_id=community.id, population=population,
                    households=round(population / 2.7),
                    boundary=json.dumps({"type": "Polygon", "coordinates": [ring]}, separators=(",", ":")),
                    centroid_lon=round(polygon.centroid.x, 6), centroid_lat=round(polygon.centroid.y, 6)))
    return polygons


# -- the map as the page builds it ----------------------------------------------------------------

def _context() -> PageContext:
    return PageContext(lang="zh-CN", actor=Actor(name="基准", role=Role.COMMITTEE), revision=0, database_url="",
                       empty=False)


def gongzhi_map(url: str) -> tuple[folium.Map, list]:
    """The map page's figure for the database at `url`, and the shapes it drew."""
    with read_session(get_engine(url)) as session:
        metrics = grid_metrics(session=session, start=date(2025, 1, 1), end=date(2025, 12, 31))
        shapes = grid_shapes(session=session)
    return build_grid_map(_context(), metrics, shapes, "open_issues"), shapes


def payload_bytes(m: folium.Map) -> int:
    """What st_folium sends to the browser for `m`: its script, header and html strings (UTF-8)."""
    m.get_root().render()  # as st_folium does before taking the parts
    return sum(len(part.encode("utf-8")) for part in (_get_map_string(m), _get_header(m), _get_html(m)))


def bare_map(shapes: list) -> folium.Map:
    """A plain folium map of the same simplified polygons, with the same local Leaflet."""
    m = folium.Map(location=[CENTRE_LAT, CENTRE_LON], zoom_start=13, tiles=None)
    prefix = static_url_prefix()
    m.default_js = [("leaflet", f"{prefix}/leaflet/leaflet.js")]
    m.default_css = [("leaflet_css", f"{prefix}/leaflet/leaflet.css")]
    box = combined_bounds(s.geometry for s in shapes)
    # Fitted before the polygons are added, as Gongzhi's map does, so that both draw them once
    # (m.fit_bounds would fit after adding them: a second drawing, a slower bare map).
    folium.FitBounds([[box[1], box[0]], [box[3], box[2]]]).add_to(m)
    folium.GeoJson({"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": s.grid_id, "properties": {}, "geometry": s.geometry} for s in shapes]}).add_to(m)
    return m


def vertex_count(geometries) -> int:
    total = 0
    for geometry in geometries:
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        total += sum(len(ring) for polygon in polygons for ring in polygon)
    return total


# -- drawing in Chromium --------------------------------------------------------------------------

_DRAW_MARKER = """
<script>
(function () {
  var expected = %d;
  function check() {
    if (document.querySelectorAll("path").length >= expected) { window.__drawnAt = performance.now(); return; }
    requestAnimationFrame(check);
  }
  check();
})();
</script>
"""


def _page_html(m: folium.Map, expected_paths: int) -> str:
    html = m.get_root().render().replace(static_url_prefix(), "/static")
    return html.replace("</body>", _DRAW_MARKER % expected_paths + "</body>")


def draw_times(gongzhi: folium.Map, bare: folium.Map, polygons: int, runs: int) -> tuple[list[float], list[float]]:
    """Milliseconds from navigation start to every polygon's <path> present, alternately for each map."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        site = Path(folder)
        (site / "static").symlink_to(ROOT / "static")
        (site / "gongzhi.html").write_text(_page_html(gongzhi, polygons), encoding="utf-8")
        (site / "bare.html").write_text(_page_html(bare, polygons), encoding="utf-8")
        handler = functools.partial(_QuietHandler, directory=str(site))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        times = {"gongzhi": [], "bare": []}
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
                page = browser.new_page(viewport={"width": 1280, "height": 720})
                for name in ("gongzhi", "bare"):  # warm the cache of leaflet.js for both alike
                    page.goto(f"{base}/{name}.html")
                for _ in range(runs):
                    for name in ("gongzhi", "bare"):
                        page.goto(f"{base}/{name}.html")
                        page.wait_for_function("window.__drawnAt !== undefined", timeout=120_000)
                        times[name].append(page.evaluate("window.__drawnAt"))
                browser.close()
        finally:
            server.shutdown()
    return times["gongzhi"], times["bare"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


# -- report ---------------------------------------------------------------------------------------

def table(rows: list[tuple[str, str, str]]) -> str:
    lines = ["| measure | value | goal |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def write_results(text: str) -> None:
    """Replace (or add) the "Map at 1,000 grids" section of bench/RESULTS.md."""
    existing = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"{re.escape(RESULTS_HEADING)}\n.*?(?=\n## |\Z)", re.S)
    section = f"{RESULTS_HEADING}\n\n{text}\n"
    updated = pattern.sub(lambda _m: section, existing) if pattern.search(existing) \
        else existing.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(updated, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="draws of each map, alternately")
    parser.add_argument("--no-browser", action="store_true", help="measure the payload only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/district.db"
        polygons = build_district(url)
        m, shapes = gongzhi_map(url)
        stored = sum(len(p.exterior.coords) for p in polygons)
        shown = vertex_count(s.geometry for s in shapes)
        payload_kb = payload_bytes(m) / 1024
        bare = bare_map(shapes)
        bare_kb = payload_bytes(bare) / 1024
        rows = [("grids", f"{len(shapes):,}", "1,000"),
                ("vertices stored / displayed", f"{stored:,} / {shown:,}", ""),
                ("payload (KB)", f"{payload_kb:,.0f} (bare folium: {bare_kb:,.0f})",
                 f"≤ {PAYLOAD_GOAL_KB}: {'met' if payload_kb <= PAYLOAD_GOAL_KB else 'NOT met'}")]
        if not args.no_browser:
            ours, theirs = draw_times(m, bare, len(shapes), args.runs)
            ratio = statistics.median(a / b for a, b in zip(ours, theirs, strict=True))
            spread = sorted(a / b for a, b in zip(ours, theirs, strict=True))
            rows += [(f"draw, median of {args.runs} (ms): Gongzhi / bare",
                      f"{statistics.median(ours):,.0f} / {statistics.median(theirs):,.0f}", ""),
                     (f"draw ratio Gongzhi / bare, median of {args.runs} pairs (lowest – highest)",
                      f"{ratio:.2f}× ({spread[0]:.2f} – {spread[-1]:.2f})",
                      f"≤ {RATIO_GOAL}×: {'met' if ratio <= RATIO_GOAL else 'NOT met'}")]
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    text = (f"{date.today().isoformat()}, {platform.machine()}, {os.cpu_count()} CPUs (load average {load}: a "
            f"shared machine, so single draws vary a lot), headless Chromium "
            f"(`.venv/bin/python bench/district_map.py`).\n\n{table(rows)}")
    print(text)
    if not args.no_browser:
        write_results(text)


if __name__ == "__main__":
    main()
