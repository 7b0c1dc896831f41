"""Settings read from the environment, with defaults that need nothing set up."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'data' / 'gongzhi.db'}"


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


def tile_url() -> str | None:
    """Optional XYZ basemap, e.g. a local tile server; none by default so maps work offline."""
    return os.environ.get("GONGZHI_TILE_URL") or None


def tile_attribution() -> str:
    return os.environ.get("GONGZHI_TILE_ATTRIBUTION", "")


def static_url_prefix() -> str:
    """Where Streamlit serves `static/` (enableStaticServing): `/app/static`, under any baseUrlPath."""
    base = os.environ.get("GONGZHI_BASE_URL_PATH", "").strip("/")
    return f"/{base}/app/static" if base else "/app/static"
