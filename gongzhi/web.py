"""Gongzhi's own HTTP layer, served with Streamlit's by `st.App` (app.py): sign-in, sign-out and
display links as ordinary web routes, security headers, a health check, the sign-in gate for
page loads, and the client address behind trusted proxies. Starlette only, no Streamlit.

Why the sign-in is an HTTP route and not a Streamlit form. A Streamlit script talks to the
browser over a WebSocket and can neither set a cookie nor one marked HttpOnly; a cookie set from
JavaScript could be read by any script on the page. So the password goes, as on any web site, in a
plain HTML form POSTed to `/signin`: the route checks it (gongzhi.accounts.authenticate, with the
rate limits on the real client address), starts a session (gongzhi.sessions: the database keeps
only the token's hash) and answers with `Set-Cookie: gongzhi_session=…; HttpOnly; SameSite=Lax;
Path=/` (and `Secure` when the request came over HTTPS, directly or through a trusted proxy) and
a redirect to the page asked for, with its query. Under Streamlit's server.baseUrlPath every
route, redirect, link and the cookies' Path are under that base (gongzhi.config.site_path);
`next` is always a path from the site's root. The browser then loads that page; its WebSocket
handshake carries the cookie, which the script reads on every rerun (`st.context.cookies`) and
checks against the database (components.page_setup), so an ended session signs out at the next
action. No one-time code, no token in a URL, no JavaScript: the password never passes through the
WebSocket and the token never through a script.

Page loads pass a gate first: a browser without a live session that asks for a page (a bookmark
`/issues?grid=3`, `/slideshow?mode=projector`) is sent to `/signin?next=/issues%3Fgrid%3D3` and,
once signed in, straight back there; the Streamlit app is only loaded signed in (or for the public
role, when public access is on, or for a screen holding a display link). `next` is taken only as
a path on this site, so the route cannot be used to send people elsewhere.

SameSite=Lax rather than Strict: a bookmark or a link in a message opened from another site is a
top-level navigation, and Strict would withhold the cookie there and ask for the password again.
Lax still keeps the cookie off every cross-site POST, WebSocket and sub-request; the POST routes
also refuse a foreign Origin.

The client address: X-Forwarded-For is believed only from the proxies listed in
GONGZHI_TRUSTED_PROXIES (default: this machine), walking the header from the right and taking the
first address that is not itself a trusted proxy; otherwise the peer of the connection counts."""

import base64
import functools
import hashlib
import importlib.util
import ipaddress
import logging
import re
import tomllib
from collections.abc import Iterable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from gongzhi import i18n
from gongzhi.accounts import LoginThrottled, actor_for, authenticate, listed_demo_accounts
from gongzhi.clock import now
from gongzhi.config import PROJECT_ROOT, base_url_path, basemap, database_url, public_access, site_path, trusted_proxies
from gongzhi.db import get_engine, prepare_database, read_session, write_session
from gongzhi.errors import GongzhiError
from gongzhi.escape import escape_text
from gongzhi.sessions import (
    DISPLAY_COOKIE,
    SESSION_COOKIE,
    EndReason,
    absolute_lifetime,
    check_session,
    display_actor,
    display_link_for,
    end_session,
    start_session,
    touch,
    use_display_link,
)

LOG = logging.getLogger(__name__)
# Paths from the site's root; every URL, redirect and cookie puts them under Streamlit's
# server.baseUrlPath with gongzhi.config.site_path, and requests are matched after `site_relative`.
SIGN_IN_PATH = "/signin"
SIGN_OUT_PATH = "/signout"
DISPLAY_PATH = "/display"
HEALTH_PATH = "/healthz"
DISPLAY_LANDING = "/?mode=projector"  # a display screen's "/" is the slideshow (components.navigation)
# The default page has no address of its own in Streamlit ("/"): a bookmark of its name goes there.
PAGE_ALIASES = {"/overview": "/"}
# Streamlit's own prefixes and files, and ours: never a page, never gated.
NOT_PAGES = ("/_stcore/", "/static/", "/app/static/", "/component/", "/media/", "/auth/", "/oauth2callback",
             "/favicon.png", "/manifest.json", SIGN_IN_PATH, SIGN_OUT_PATH, DISPLAY_PATH + "/", HEALTH_PATH)
# The public grid pages and Open311 (gongzhi.public_web.PUBLIC_PREFIXES): for everyone.
NOT_PAGES += ("/grid/", "/open311/")
# The residents' own pages (gongzhi.resident_web): for everyone, signed in or not.
NOT_PAGES += ("/report/", "/track")
OIDC_COOKIE = "_streamlit_user"  # Streamlit's identity cookie after st.login (an [auth] section)
LOGIN_PAGE_PATH = "/login"  # the Streamlit sign-in page (the organisation's identity provider)



def _inline_script_hashes() -> str:
    """CSP hashes of the inline scripts of Streamlit's index.html (`window.prerenderReady = false`),
    read from the installed Streamlit, so exactly those run and no other inline script."""
    spec = importlib.util.find_spec("streamlit")
    index = Path(spec.origin).parent / "static" / "index.html" if spec and spec.origin else None
    if index is None or not index.exists():
        return ""
    scripts = re.findall(r"<script>(.*?)</script>", index.read_text(encoding="utf-8"), re.DOTALL)
    return " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'"
                    for body in scripts)


def tile_origins() -> tuple[str, ...]:
    """The origins of the configured basemap's tiles (gongzhi.config.basemap), the only outside
    images a page may load; none without a basemap (the default)."""
    origins = []
    for source in basemap().tiles:
        hosts = [source.url.replace("{s}", sub) for sub in source.subdomains] or [source.url]
        for url in hosts:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https") and parts.netloc:
                origins.append(f"{parts.scheme}://{parts.netloc}")
    return tuple(dict.fromkeys(origins))


def content_security_policy(*, component: bool = False) -> str:
    """Only this server's own origin for scripts, styles, images and connections (images also from
    the configured basemap). A component's frame (the map) may also run inline scripts and eval:
    streamlit-folium writes and evaluates the map's script, which it receives from this server
    (every user text in it escaped, components.grid_map); still no script from anywhere else."""
    scripts = ("'self' 'unsafe-inline' 'unsafe-eval'" if component
               else f"'self' {_inline_script_hashes()}".strip())
    images = " ".join(("'self'", "data:", "blob:", *tile_origins()))
    return "; ".join([
        "default-src 'self'",
        f"script-src {scripts}",
        # Streamlit's components style themselves at run time (emotion inserts <style> elements);
        # 'unsafe-inline' lets no other origin in.
        "style-src 'self' 'unsafe-inline'",
        f"img-src {images}",
        "font-src 'self' data:",
        "connect-src 'self'",
        "media-src 'self' blob:",
        "worker-src 'self' blob:",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ])


@functools.cache
def security_headers(component: bool) -> tuple[tuple[bytes, bytes], ...]:
    return (
        (b"content-security-policy", content_security_policy(component=component).encode()),
        (b"referrer-policy", b"same-origin"),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"SAMEORIGIN"),
    )


# --- Who is asking --------------------------------------------------------------------------

def _networks(entries: Iterable[str]) -> list:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            LOG.warning("GONGZHI_TRUSTED_PROXIES: %r is not an address or network; ignored", entry)
    return networks


def _is_trusted(address: str | None, networks: list) -> bool:
    try:
        ip = ipaddress.ip_address((address or "").strip().strip("[]"))
    except ValueError:
        return False
    return any(ip.version == network.version and ip in network for network in networks)


def client_address(peer: str | None, forwarded_for: str | None, proxies: Iterable[str] | None = None) -> str:
    """The address of the person: the peer of the connection, unless that is a trusted proxy,
    then the right-most address of X-Forwarded-For that is not a trusted proxy itself."""
    networks = _networks(trusted_proxies() if proxies is None else proxies)
    address = peer or "unknown"
    if not forwarded_for or not _is_trusted(address, networks):
        return address
    for hop in reversed([part.strip() for part in forwarded_for.split(",") if part.strip()]):
        address = hop
        if not _is_trusted(hop, networks):
            break
    return address


def request_address(request: Request) -> str:
    return client_address(request.client.host if request.client else None, request.headers.get("x-forwarded-for"))


def is_https(request: Request) -> bool:
    """Whether the browser reached us over HTTPS: directly, or per X-Forwarded-Proto of a trusted proxy."""
    if request.url.scheme == "https":
        return True
    peer = request.client.host if request.client else None
    return (request.headers.get("x-forwarded-proto", "").strip().lower() == "https"
            and _is_trusted(peer, _networks(trusted_proxies())))


# --- Security headers and the sign-in gate ------------------------------------------------------

def safe_next(value: str | None) -> str:
    """A path with its query on this site, from the site's root (its base URL path taken off if
    given), to return to after sign-in; anything else is "/"."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or any(ord(char) < 32 for char in value):
        return "/"
    relative = site_relative(parts.path) if base_url_path() else parts.path
    if relative is not None and relative != parts.path:
        value = relative + (f"?{parts.query}" if parts.query else "")
    return value


def site_relative(path: str) -> str | None:
    """A request's path from the site's root (its base URL path taken off); None outside the site."""
    base = base_url_path()
    if not base:
        return path
    if path == base:
        return "/"
    return path[len(base):] if path.startswith(base + "/") else None


def cookie_path() -> str:
    """The Path of Gongzhi's cookies: the whole site, and only it."""
    return base_url_path() or "/"


def _is_page_request(scope) -> bool:
    if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
        return False
    path = site_relative(scope["path"])
    if path is None:
        return False
    # Streamlit's frontend probes `<page>/_stcore/health` to find its base path: never a page.
    return "/_stcore/" not in path and not any(path == prefix.rstrip("/") or path.startswith(prefix)
                                               for prefix in NOT_PAGES)


def _cookies(scope) -> dict[str, str]:
    return Request(scope).cookies


def _gate(cookies: dict[str, str]) -> tuple[bool, EndReason | None]:
    """(may this browser load the app, why its session ended if it did)."""
    with read_session() as session:
        check = check_session(session=session, token=cookies.get(SESSION_COOKIE))
        if check.actor is not None:
            if check.touch:
                with write_session() as writing:
                    touch(session=writing, session_id=check.session_id)
            return True, None
        if display_link_for(session=session, token=cookies.get(DISPLAY_COOKIE)) is not None:
            return True, None
    if cookies.get(OIDC_COOKIE) or public_access():
        return True, check.ended
    return False, check.ended


class GongzhiMiddleware:
    """Security headers on every HTTP response; page loads without a sign-in go to /signin."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        path = site_relative(scope["path"]) or ""

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                headers = security_headers(path.startswith("/component/"))
                message["headers"] = [*message.get("headers", []),
                                      *((name, value) for name, value in headers if name not in names)]
            await send(message)

        if _is_page_request(scope) and path in PAGE_ALIASES:
            query = scope.get("query_string", b"").decode("latin-1")
            response = RedirectResponse(site_path(PAGE_ALIASES[path]) + (f"?{query}" if query else ""), status_code=308)
            await response(scope, receive, send_with_headers)
            return
        if _is_page_request(scope) and path != LOGIN_PAGE_PATH:
            allowed, ended = await run_in_threadpool(_gate, _cookies(scope))
            if not allowed:
                query = scope.get("query_string", b"").decode("latin-1")
                target = path + (f"?{query}" if query else "")  # `next` is a path from the site's root
                location = site_path(f"{SIGN_IN_PATH}?next={quote(target, safe='')}")
                if ended is not None:
                    location += f"&ended={ended.value}"
                response = RedirectResponse(location, status_code=303)
                if ended is not None:
                    response.delete_cookie(SESSION_COOKIE, path=cookie_path())
                await response(scope, receive, send_with_headers)
                return
        await self.app(scope, receive, send_with_headers)


# --- The sign-in page ---------------------------------------------------------------------------

def request_language(request: Request, next_path: str = "/") -> str:
    """?lang=… on the request or on the page asked for, else the browser's first language."""
    for source in (request.query_params.get("lang"), dict(_query_pairs(next_path)).get("lang")):
        if source in i18n.LANGUAGES:
            return source
    accepted = request.headers.get("accept-language", "").split(",")[0].strip()
    return i18n.language_from_locale(accepted or None)


def _query_pairs(path: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(path).query)


def ended_message_key(reason: str | None) -> str | None:
    """The i18n key saying why a sign-in ended, for a reason code (None for no or an unknown reason)."""
    return f"sessions.ended_{reason}" if reason in {r.value for r in EndReason} else None


def sign_in_form_html(lang: str, next_path: str, *, username: str = "", message: str | None = None) -> str:
    """The sign-in form (also placed into the Streamlit sign-in page): it POSTs to /signin."""
    t = lambda key, **params: escape_text(i18n.translate(lang, key, **params))  # noqa: E731
    notice = f'<p class="gz-error" role="alert">{escape_text(message)}</p>' if message else ""
    return f"""<form class="gz-signin" method="post" action="{escape_text(site_path(SIGN_IN_PATH))}">
{notice}<input type="hidden" name="next" value="{escape_text(next_path)}">
<input type="hidden" name="lang" value="{escape_text(lang)}">
<p><label for="gz-username">{t("auth.field_username")}</label><br>
<input id="gz-username" name="username" type="text" autocomplete="username" maxlength="40" required
 value="{escape_text(username)}"></p>
<p><label for="gz-password">{t("auth.field_password")}</label><br>
<input id="gz-password" name="password" type="password" autocomplete="current-password" maxlength="200" required></p>
<p><button type="submit">{t("auth.sign_in")}</button></p>
</form>"""


PAGE_STYLE = """body{font-family:system-ui,"Noto Sans CJK SC","Source Sans Pro",sans-serif;margin:0;color:#1f2430;
background:#f6f7f9}main{max-width:26rem;margin:8vh auto;background:#fff;padding:2rem;border-radius:.5rem;
box-shadow:0 1px 4px rgba(0,0,0,.15)}h1{font-size:1.6rem;margin-top:0}label{font-weight:600}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;font-size:1rem;padding:.5rem;
border:1px solid #8a8f98;border-radius:.3rem}button{font-size:1rem;padding:.55rem 1.2rem;border:0;border-radius:.3rem;
background:#b3261e;color:#fff;cursor:pointer}.gz-error{color:#8c1d18;background:#fdecea;padding:.5rem;
border-radius:.3rem}.gz-note{color:#4a4f59;font-size:.9rem}code{background:#eef0f3;padding:0 .2rem}"""


def _demo_note(lang: str) -> str:
    with read_session() as session:
        accounts = listed_demo_accounts(session=session)
    if not accounts:
        return ""
    from gongzhi.accounts import DEMO_PASSWORD

    items = "".join(f"<li><code>{escape_text(name)}</code> · {escape_text(i18n.label(lang, 'role', role))}</li>"
                    for name, role in accounts)
    return (f'<div class="gz-note"><p>{escape_text(i18n.translate(lang, "sessions.demo_accounts"))} '
            f'<code>{escape_text(DEMO_PASSWORD)}</code></p><ul>{items}</ul></div>')


def oidc_offered() -> bool:
    """Whether an [auth] section in a secrets.toml Streamlit reads (the project's or the user's)
    turns on sign-in with the organisation's identity provider (components.page_setup.oidc_configured
    asks Streamlit itself; this page is served without it)."""
    for path in (PROJECT_ROOT / ".streamlit" / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml"):
        try:
            if "auth" in tomllib.loads(path.read_text(encoding="utf-8")):
                return True
        except (OSError, tomllib.TOMLDecodeError):
            continue
    return False


def _oidc_link(lang: str) -> str:
    """The organisation's sign-in starts on the app's sign-in page, whose button calls st.login."""
    if not oidc_offered():
        return ""
    label = escape_text(i18n.translate(lang, "auth.sign_in_oidc"))
    return f'<p><a href="{escape_text(site_path(LOGIN_PAGE_PATH))}?lang={escape_text(quote(lang))}">{label}</a></p>'


def sign_in_page(lang: str, next_path: str, *, username: str = "", message: str | None = None,
                 status_code: int = 200) -> HTMLResponse:
    title = escape_text(i18n.translate(lang, "nav.login"))
    body = f"""<!DOCTYPE html>
<html lang="{escape_text(lang)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Gongzhi 共治</title><link rel="icon" href="{escape_text(site_path("/favicon.png"))}"><style>{PAGE_STYLE}</style></head>
<body><main><h1>{title}</h1><p class="gz-note">{escape_text(i18n.translate(lang, "auth.intro"))}</p>
{sign_in_form_html(lang, next_path, username=username, message=message)}
{_oidc_link(lang)}{_demo_note(lang)}</main></body></html>"""
    return HTMLResponse(body, status_code=status_code, headers={"Cache-Control": "no-store"})


def _foreign_origin(request: Request) -> bool:
    """A POST from another site's page (login or logout CSRF) is refused."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin == "null"
    return urlsplit(origin).netloc != request.headers.get("host", "")


def _set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path=cookie_path(), httponly=True, samesite="lax",
                        secure=is_https(request))


def _sign_in(username: str, password: str, address: str, user_agent: str) -> tuple[str | None, GongzhiError | None]:
    """(token, None) for a right password, else (None, why not)."""
    try:
        with write_session() as session:  # the attempt is recorded even when it fails
            user = authenticate(session=session, username=username, password=password, address=address)
            user_id = None if user is None else user.id
    except LoginThrottled as error:
        return None, error
    if user_id is None:
        return None, GongzhiError("auth.login_refused")
    with read_session() as session:
        actor = actor_for(session=session, user_id=user_id)
    with write_session(actor=actor) as session:  # audited: who signed in, from where, with what
        return start_session(session=session, user_id=user_id, address=address, user_agent=user_agent), None


async def sign_in(request: Request) -> Response:
    if request.method == "GET":
        next_path = safe_next(request.query_params.get("next"))
        lang = request_language(request, next_path)
        key = ended_message_key(request.query_params.get("ended"))
        return sign_in_page(lang, next_path, message=i18n.translate(lang, key) if key else None)
    form = await request.form()
    next_path = safe_next(str(form.get("next") or "/"))
    lang = str(form.get("lang") or "") if form.get("lang") in i18n.LANGUAGES else request_language(request, next_path)
    if _foreign_origin(request):
        return sign_in_page(lang, next_path, message=i18n.translate(lang, "sessions.foreign_origin"), status_code=403)
    username = str(form.get("username") or "")[:40]
    token, error = await run_in_threadpool(_sign_in, username, str(form.get("password") or "")[:200],
                                           request_address(request), request.headers.get("user-agent", ""))
    if token is None:
        return sign_in_page(lang, next_path, username=username, message=error.message(lang),
                            status_code=429 if isinstance(error, LoginThrottled) else 401)
    # A session this browser held before (another account, say) ends: one browser, one sign-in.
    await run_in_threadpool(_sign_out, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse(site_path(next_path), status_code=303)
    _set_cookie(response, request, SESSION_COOKIE, token, int(absolute_lifetime().total_seconds()))
    return response


def _sign_out(token: str | None) -> None:
    with read_session() as session:
        check = check_session(session=session, token=token)
    if check.session_id is not None and check.ended is None:
        with write_session(actor=check.actor) as session:
            end_session(session=session, session_id=check.session_id, reason=EndReason.SIGNED_OUT)


async def sign_out(request: Request) -> Response:
    form = await request.form()
    lang = str(form.get("lang") or "")
    if _foreign_origin(request):
        return Response(status_code=403)
    await run_in_threadpool(_sign_out, request.cookies.get(SESSION_COOKIE))
    location = site_path(SIGN_IN_PATH) + (f"?lang={lang}" if lang in i18n.LANGUAGES else "")
    response = RedirectResponse(location, status_code=303)
    for name in (SESSION_COOKIE, DISPLAY_COOKIE):
        response.delete_cookie(name, path=cookie_path(), httponly=True, samesite="lax", secure=is_https(request))
    return response


def sign_in_link_html(lang: str, next_path: str) -> str:
    """A link to the sign-in page that comes back to `next_path` (for a public visitor)."""
    href = site_path(f"{SIGN_IN_PATH}?next={quote(safe_next(next_path), safe='')}&lang={quote(lang)}")
    return f'<a href="{escape_text(href)}">{escape_text(i18n.translate(lang, "auth.sign_in"))}</a>'


def sign_out_form_html(lang: str) -> str:
    """The sign-out button (a POST, so no link on another site can sign anyone out)."""
    label = escape_text(i18n.translate(lang, "auth.sign_out"))
    return (f'<form method="post" action="{escape_text(site_path(SIGN_OUT_PATH))}"><input type="hidden" name="lang" value="{escape_text(lang)}">'
            f'<button type="submit">{label}</button></form>')


# --- Display links, health -----------------------------------------------------------------------

def _open_display(token: str) -> datetime | None:
    with read_session() as session:
        link = display_link_for(session=session, token=token)
        if link is None:
            return None
        actor = display_actor(link)
    with write_session(actor=actor) as session:  # audited: the link was used (last_used_at)
        link = use_display_link(session=session, token=token)
        return None if link is None else link.expires_at


async def open_display(request: Request) -> Response:
    token = request.path_params["token"]
    expires_at = await run_in_threadpool(_open_display, token)
    lang = request_language(request)
    if expires_at is None:
        title = escape_text(i18n.translate(lang, "sessions.display_invalid"))
        return HTMLResponse(f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
                            f'<style>{PAGE_STYLE}</style></head><body><main><h1>{title}</h1></main></body></html>',
                            status_code=404, headers={"Cache-Control": "no-store"})
    response = RedirectResponse(site_path(DISPLAY_LANDING) + f"&lang={lang}", status_code=303)
    response.headers["Cache-Control"] = "no-store"
    _set_cookie(response, request, DISPLAY_COOKIE, token, max(1, int((expires_at - now()).total_seconds())))
    return response


def _database_ok() -> bool:
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not healthy"; the log says which
        LOG.exception("health check: the database does not answer")
        return False


async def health(_request: Request) -> Response:
    ok = await run_in_threadpool(_database_ok)
    return JSONResponse({"status": "ok" if ok else "error", "database": "ok" if ok else "unreachable"},
                        status_code=200 if ok else 503, headers={"Cache-Control": "no-store"})


def routes() -> list[Route]:
    """Gongzhi's routes, under the base URL path (read when the server starts)."""
    return [
        Route(site_path(SIGN_IN_PATH), sign_in, methods=["GET", "POST"]),
        Route(site_path(SIGN_OUT_PATH), sign_out, methods=["POST"]),
        Route(site_path(DISPLAY_PATH + "/{token}"), open_display, methods=["GET"]),
        Route(site_path(HEALTH_PATH), health, methods=["GET", "HEAD"]),
    ]


@asynccontextmanager
async def lifespan(_app):
    """At start, before the first request: the schema is brought up to date (and the demo seeded
    into a new default database), so the sign-in page works on a freshly started server."""
    await run_in_threadpool(prepare_database, database_url())
    yield
