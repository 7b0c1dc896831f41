"""Reading the grid layer back out of a rendered map page, independently of the code that wrote
it: the data GridLayer hands to the browser, its grids decoded to GeoJSON features as the
browser's decoder does, and the labels it would show."""

import json
import re


def grid_data(html: str) -> dict:
    """The one grid layer's data object (`var data = {…};` in GongzhiGrids' script)."""
    found = re.findall(r"var data = (\{.*?\});\n", html)
    assert len(found) == 1, "exactly one grid layer"
    return json.loads(found[0])


def _ring(flat: list[int], decimals: int) -> list[list[float]]:
    points, x, y = [], 0, 0
    for dx, dy in zip(flat[::2], flat[1::2], strict=True):
        x, y = x + dx, y + dy
        points.append([round(x / 10 ** decimals, decimals), round(y / 10 ** decimals, decimals)])
    return points


def grid_features(html: str) -> list[dict]:
    """Every grid as the GeoJSON feature the browser builds: id, {grid_id, code}, geometry."""
    data = grid_data(html)
    features = []
    for grid_id, code, _name, _cut, _colour, _figures, polygons, _label in data["grids"]:
        decoded = [[_ring(ring, data["decimals"]) for ring in rings] for rings in polygons]
        geometry = ({"type": "Polygon", "coordinates": decoded[0]} if len(decoded) == 1
                    else {"type": "MultiPolygon", "coordinates": decoded})
        features.append({"type": "Feature", "id": grid_id, "properties": {"grid_id": grid_id, "code": code},
                         "geometry": geometry})
    return features


def fill_colours(html: str) -> dict[int, str]:
    data = grid_data(html)
    return {grid[0]: data["palette"][grid[4]] for grid in data["grids"]}


def figures(html: str) -> dict[int, dict[str, str]]:
    """grid id -> tooltip field -> the text shown (name, code and the figures)."""
    data = grid_data(html)
    return {grid[0]: dict(zip(data["fields"], [grid[2], grid[1], *grid[5]], strict=True)) for grid in data["grids"]}


def label_html(html: str) -> dict[int, str]:
    """grid id -> the label markup the browser builds from the name and its cut."""
    labels = {}
    for grid_id, _code, name, cut, *_ in grid_data(html)["grids"]:
        labels[grid_id] = (f'<div class="gongzhi-grid-label">{name}</div>' if not cut else
                           f'<div class="gongzhi-grid-label">{name[:cut].strip()}'
                           f'<div class="gongzhi-grid-label-sub">{name[cut:].strip()}</div></div>')
    return labels


def label_points(html: str) -> dict[int, list[float]]:
    return {grid[0]: grid[7] for grid in grid_data(html)["grids"]}
