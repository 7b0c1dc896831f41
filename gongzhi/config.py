"""Settings read from the environment, with defaults that need nothing set up."""

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'data' / 'gongzhi.db'}"


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


def public_access() -> bool:
    """GONGZHI_PUBLIC_ACCESS=1 lets visitors who do not sign in see the public role (aggregates
    and the map only); off by default."""
    return os.environ.get("GONGZHI_PUBLIC_ACCESS") == "1"


def wants_demo(url: str) -> bool:
    """The embedded default is seeded with the demo community on first start; a database named
    in DATABASE_URL stays as it is unless GONGZHI_DEMO=1 asks for the demo (0: never)."""
    setting = os.environ.get("GONGZHI_DEMO")
    if setting is not None:
        return setting == "1"
    return url == DEFAULT_DATABASE_URL


def backup_dir() -> Path:
    """Where `python -m gongzhi backup` and the backups page put their files (GONGZHI_BACKUP_DIR)."""
    configured = os.environ.get("GONGZHI_BACKUP_DIR")
    return Path(configured) if configured else PROJECT_ROOT / "data" / "backups"


def tile_url() -> str | None:
    """Optional XYZ basemap, e.g. a local tile server; none by default so maps work offline."""
    return os.environ.get("GONGZHI_TILE_URL") or None


def tile_attribution() -> str:
    return os.environ.get("GONGZHI_TILE_ATTRIBUTION", "")


# Basemap providers (GONGZHI_BASEMAP). Tianditu's "_w" layers are Web Mercator on CGCS2000,
# which matches WGS-84 to centimetres; AMap/Gaode tiles are drawn in GCJ-02, so the map converts
# every geometry it shows on them (gongzhi.coords), never what is stored.
BASEMAPS = ("none", "osm", "tianditu", "amap")
TIANDITU_URL = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
                "&TILECOL={x}&tk={key}")
TIANDITU_ATTRIBUTION = "© 天地图 Tianditu"
AMAP_URL = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
AMAP_ATTRIBUTION = "© 高德地图 AutoNavi"


@dataclass(frozen=True)
class TileSource:
    url: str  # XYZ template; {s} is one of `subdomains`
    attribution: str
    subdomains: str = ""


@dataclass(frozen=True)
class Basemap:
    """The configured basemap: its tile layers (none = plain background), whether geometries must
    be shown in GCJ-02 to sit on them, and an i18n key explaining a fallback to no basemap."""

    provider: str
    tiles: tuple[TileSource, ...] = ()
    gcj02: bool = False
    note_key: str | None = None


def basemap() -> Basemap:
    """GONGZHI_BASEMAP = none | osm | tianditu | amap. Unset, a GONGZHI_TILE_URL alone means osm, as
    before providers existed. A provider that cannot work as configured (osm without a URL,
    tianditu without GONGZHI_TIANDITU_KEY, an unknown name) falls back to none, with a note."""
    url = tile_url()
    provider = (os.environ.get("GONGZHI_BASEMAP") or ("osm" if url else "none")).strip().lower()
    if provider == "none":
        return Basemap("none")
    if provider == "osm":
        if not url:
            return Basemap("none", note_key="map.basemap_needs_tile_url")
        return Basemap("osm", (TileSource(url, tile_attribution() or url),))
    if provider == "tianditu":
        key = os.environ.get("GONGZHI_TIANDITU_KEY", "").strip()
        if not key:
            return Basemap("none", note_key="map.basemap_needs_tianditu_key")
        layers = tuple(TileSource(TIANDITU_URL.replace("{layer}", layer).replace("{key}", quote(key, safe="")),
                                  TIANDITU_ATTRIBUTION, "01234567") for layer in ("vec", "cva"))
        return Basemap("tianditu", layers)
    if provider == "amap":
        return Basemap("amap", (TileSource(AMAP_URL, AMAP_ATTRIBUTION, "1234"),), gcj02=True)
    return Basemap("none", note_key="map.basemap_unknown")


BASE_URL_PATH_ENV = "GONGZHI_BASE_URL_PATH"


def base_url_path() -> str:
    """The path the whole site is served under: Streamlit's `server.baseUrlPath` ("" or e.g.
    "/gongzhi"). The server (app.py, which reads Streamlit's option) puts it in
    GONGZHI_BASE_URL_PATH for the core, which never imports Streamlit; Streamlit's own
    environment form of the option counts too."""
    raw = os.environ.get(BASE_URL_PATH_ENV) or os.environ.get("STREAMLIT_SERVER_BASE_URL_PATH") or ""
    base = "/".join(part for part in raw.strip().split("/") if part)
    return f"/{base}" if base else ""


def site_path(path: str = "/") -> str:
    """The one place a path of this site is built: `path` (from the site's root, e.g. "/signin",
    "/issues?grid=3") under the base URL path ("/gongzhi/signin")."""
    if not path.startswith("/"):
        raise ValueError(f"a site path starts with /: {path!r}")
    return base_url_path() + path


def static_url_prefix() -> str:
    """Where Streamlit serves `static/` (enableStaticServing): `/app/static`, under any baseUrlPath."""
    return site_path("/app/static")


DEFAULT_IMPORT_MAX_MB = 10.0


def import_max_bytes() -> int:
    """GONGZHI_IMPORT_MAX_MB: the largest spreadsheet an import reads (default 10 MB; a roster of
    10,000 people is about 1 MB). A value that is not a positive number falls back to the default."""
    try:
        megabytes = float(os.environ.get("GONGZHI_IMPORT_MAX_MB") or DEFAULT_IMPORT_MAX_MB)
    except ValueError:
        megabytes = DEFAULT_IMPORT_MAX_MB
    if not megabytes > 0:
        megabytes = DEFAULT_IMPORT_MAX_MB
    return int(megabytes * 1024 * 1024)


def _positive_float(name: str, default: float) -> float:
    """A positive number from the environment; anything else (unset, not a number, ≤ 0) is `default`."""
    try:
        value = float(os.environ.get(name) or default)
    except ValueError:
        return default
    return value if value > 0 else default


def session_idle_hours() -> float:
    """GONGZHI_SESSION_IDLE_HOURS: a sign-in unused this long ends (default 12 hours)."""
    return _positive_float("GONGZHI_SESSION_IDLE_HOURS", 12)


def session_max_days() -> float:
    """GONGZHI_SESSION_MAX_DAYS: a sign-in ends this long after it began, used or not (default 30 days)."""
    return _positive_float("GONGZHI_SESSION_MAX_DAYS", 30)


def display_link_hours() -> float:
    """GONGZHI_DISPLAY_LINK_HOURS: how long a new display link for the meeting room works (default 24)."""
    return _positive_float("GONGZHI_DISPLAY_LINK_HOURS", 24)


DEFAULT_TRUSTED_PROXIES = "127.0.0.1, ::1"


def trusted_proxies() -> tuple[str, ...]:
    """GONGZHI_TRUSTED_PROXIES: addresses or networks (CIDR) of the reverse proxies whose
    X-Forwarded-For and X-Forwarded-Proto are believed, separated by commas or spaces; `none`
    believes no one. Default: this machine (a proxy on the same host, as deploy/nginx.conf)."""
    value = os.environ.get("GONGZHI_TRUSTED_PROXIES")
    value = DEFAULT_TRUSTED_PROXIES if value is None else value
    if value.strip().lower() == "none":
        return ()
    return tuple(part for part in value.replace(",", " ").split() if part)


def resident_reports() -> bool:
    """GONGZHI_RESIDENT_REPORTS: residents' own reports from the grid's QR code (/report/…, /track/…)
    are on unless this is `0` (a deployment that does not want them switches them off)."""
    return os.environ.get("GONGZHI_RESIDENT_REPORTS", "1").strip() != "0"


DEFAULT_PUBLIC_URL = "http://localhost:8501"


def public_url() -> str:
    """GONGZHI_PUBLIC_URL: the address residents reach this server at (scheme, host and any path
    prefix, e.g. https://gongzhi.example.org), for the QR codes of the printed posters, which must
    work from any phone. Default: http://localhost:8501, which works on this machine only."""
    return (os.environ.get("GONGZHI_PUBLIC_URL") or DEFAULT_PUBLIC_URL).strip().rstrip("/")


def public_url_configured() -> bool:
    return bool((os.environ.get("GONGZHI_PUBLIC_URL") or "").strip())
