"""Speak HTTP to Gongzhi's own Starlette routes in-process (no server, no httpx): one request
through the same middleware the app mounts (gongzhi.web.GongzhiMiddleware), its answer read back.
The fixture `public_demo` (tests/gongzhi/conftest.py) gives the routes a private copy of the demo."""

import asyncio
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware

from tests.conftest import Sql


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def public_app() -> Starlette:
    from gongzhi.public_web import routes as public_routes
    from gongzhi.web import GongzhiMiddleware, routes

    return Starlette(routes=[*routes(), *public_routes()], middleware=[Middleware(GongzhiMiddleware)])


def call(app, method: str, path: str, *, query: dict | None = None, form: dict | None = None,
         headers: dict | None = None, client: str = "203.0.113.7") -> Answer:
    body = urlencode(form or {}).encode() if form is not None else b""
    sent = {"host": "testserver", **({"content-type": "application/x-www-form-urlencoded"} if form is not None else {}),
            **(headers or {})}
    scope = {"type": "http", "http_version": "1.1", "method": method, "scheme": "http", "path": path,
             "raw_path": path.encode(), "root_path": "", "query_string": urlencode(query or {}).encode(),
             "headers": [(name.lower().encode(), value.encode()) for name, value in sent.items()],
             "client": (client, 50000), "server": ("testserver", 80)}
    messages = []
    delivered = False

    async def receive():
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        messages.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(message for message in messages if message["type"] == "http.response.start")
    return Answer(status=start["status"],
                  headers={name.decode().lower(): value.decode() for name, value in start["headers"]},
                  body=b"".join(message.get("body", b"") for message in messages if message["type"] == "http.response.body"))


def change(sql: Sql, statement: str, **params) -> None:
    """One write in its own committed transaction."""
    with sql.engine.begin() as connection:
        connection.execute(text(statement), params)
