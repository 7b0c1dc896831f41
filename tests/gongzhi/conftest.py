"""Fixtures of the core's tests that speak HTTP to Gongzhi's own routes (tests.asgi)."""

import pytest

from tests.conftest import Sql


@pytest.fixture
def public_demo(demo_url, monkeypatch) -> Sql:
    """A private copy of the demo as the database of the routes, for a visitor who is not signed in."""
    monkeypatch.setenv("DATABASE_URL", demo_url)
    monkeypatch.delenv("GONGZHI_PUBLIC_ACCESS", raising=False)
    return Sql(demo_url)
