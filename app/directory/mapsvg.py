"""Geometry for the offline centre map: an inline SVG drawn by the app, no tiles, no script.

Equirectangular projection (x = lon * cos(52°), y = -lat), centred on Europe and drawn from the
hand-made outline in ``europe_outline.json``; a point outside that box is shown on a world box
instead. Only numbers leave this module: the template writes the SVG and autoescapes every name.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

OUTLINE_FILE = Path(__file__).with_name("europe_outline.json")
EUROPE_WIDTH = 600
STANDARD_PARALLEL = 52.0


@dataclass
class MapView:
    kind: str  # "europe" | "world"
    width: int
    height: int
    land: list[str] = field(default_factory=list)  # SVG path data
    water: list[str] = field(default_factory=list)
    grid: list[tuple[float, float, float, float]] = field(default_factory=list)
    frame: tuple[float, float, float, float] | None = None  # Europe's box on the world map
    point: tuple[float, float] | None = None
    credit: str = ""


@lru_cache(maxsize=1)
def _outline() -> dict:
    return json.loads(OUTLINE_FILE.read_text(encoding="utf-8"))


def _europe_projection():
    b = _outline()["bounds"]
    k = math.cos(math.radians(STANDARD_PARALLEL))
    scale = EUROPE_WIDTH / ((b["east"] - b["west"]) * k)
    height = round((b["north"] - b["south"]) * scale)

    def project(lon: float, lat: float) -> tuple[float, float]:
        return round((lon - b["west"]) * k * scale, 1), round((b["north"] - lat) * scale, 1)
    return project, height


def _path(points, project) -> str:
    coords = [project(lon, lat) for lon, lat in points]
    return "M" + " L".join(f"{x},{y}" for x, y in coords) + " Z"


@lru_cache(maxsize=1)
def _europe_base() -> tuple[tuple[str, ...], tuple[str, ...], tuple, int]:
    project, height = _europe_projection()
    outline = _outline()
    land = tuple(_path(points, project) for points in outline["land"].values())
    water = tuple(_path(points, project) for points in outline["water"].values())
    grid = []
    b = outline["bounds"]
    for lon in range(-20, 45, 10):
        (x1, y1), (x2, y2) = project(lon, b["north"]), project(lon, b["south"])
        grid.append((x1, y1, x2, y2))
    for lat in range(40, 72, 10):
        (x1, y1), (x2, y2) = project(b["west"], lat), project(b["east"], lat)
        grid.append((x1, y1, x2, y2))
    return land, water, tuple(grid), height


def in_europe_box(lat: float, lon: float) -> bool:
    b = _outline()["bounds"]
    return b["south"] <= lat <= b["north"] and b["west"] <= lon <= b["east"]


def map_for(lat: float | None, lon: float | None) -> MapView | None:
    """The map for one point, or None when the centre has no coordinates."""
    if lat is None or lon is None:
        return None
    if in_europe_box(lat, lon):
        project, _ = _europe_projection()
        land, water, grid, height = _europe_base()
        return MapView("europe", EUROPE_WIDTH, height, list(land), list(water), list(grid),
                       point=project(lon, lat), credit=_outline()["credit"])
    return _world(lat, lon)


def _world(lat: float, lon: float) -> MapView:
    scale = 2.0

    def project(lo: float, la: float) -> tuple[float, float]:
        return round((lo + 180) * scale, 1), round((90 - la) * scale, 1)
    grid = [(*project(lo, 90), *project(lo, -90)) for lo in range(-150, 180, 30)]
    grid += [(*project(-180, la), *project(180, la)) for la in range(-60, 90, 30)]
    b = _outline()["bounds"]
    (x1, y1), (x2, y2) = project(b["west"], b["north"]), project(b["east"], b["south"])
    return MapView("world", int(360 * scale), int(180 * scale), grid=grid,
                   frame=(x1, y1, round(x2 - x1, 1), round(y2 - y1, 1)), point=project(lon, lat))


def format_coordinates(lat: float, lon: float) -> str:
    return f"{abs(lat):.4f}° {'N' if lat >= 0 else 'S'}, {abs(lon):.4f}° {'E' if lon >= 0 else 'W'}"
