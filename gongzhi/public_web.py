"""The public side of Gongzhi over plain HTTP, for people without an account (Starlette routes
mounted with gongzhi.web's by `st.App`, app.py):

- `/grid/{grid_id}` — 公示, a grid's public page, linked from the QR poster on its notice board:
  its screened open issues and their step in the loop, the decisions of its last meetings and how
  they stand (done, on time, overdue), and its headline figures. Server-rendered HTML, every text
  escaped (gongzhi.escape), no script at all, Chinese by default (`?lang=en`), readable on a phone
  and on a desktop. No personal data: no names (not even the leader's), no phone numbers (any
  number in an issue's text is masked); nothing a resident sent is shown before it is screened
  (gongzhi.queries.issues.visible_issue_condition).
- `/open311/v2/…` — Open311 GeoReport v2: the service list, service requests (the same public
  ones) and POST of a new request with an API key an admin issues (gongzhi.api_keys), which goes
  through the resident page's own checks and screening (gongzhi.resident_reports.submit_report).
  The mappings are gongzhi.open311's (one home for Open311)."""

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

import pandas as pd
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from gongzhi import i18n, open311
from gongzhi.api_keys import api_key_for, use_api_key
from gongzhi.clock import today
from gongzhi.config import resident_reports, site_path
from gongzhi.db import read_session, write_session
from gongzhi.domain import IssueSource
from gongzhi.errors import GongzhiError, PermissionDenied, ValidationError
from gongzhi.escape import escape_text
from gongzhi.permissions import Actor, Role
from gongzhi.privacy import mask_personal_data
from gongzhi.queries.areas import list_grids
from gongzhi.queries.common import twelve_months_start
from gongzhi.queries.issues import OPEN_STATE_CODES, IssueHeadline, issue_headline, list_issues
from gongzhi.queries.meetings import follow_up
from gongzhi.resident_reports import ReportReceipt, ReportThrottled, submit_report
from gongzhi.resident_web import REPORT_PATH
from gongzhi.timeline import OPEN_STEPS

GRID_PATH = "/grid"
OPEN311_PATH = "/open311/v2"
# Paths under these prefixes are no Streamlit pages: gongzhi.web's sign-in gate lets them through.
PUBLIC_PREFIXES = (GRID_PATH + "/", "/open311/")
LAST_MEETINGS = 3  # the decisions of this many of the grid's latest meetings
OPEN_ISSUES_SHOWN = 100


def page_language(request: Request) -> str:
    """?lang=en or ?lang=zh-CN; Chinese otherwise (the poster hangs in a Chinese community)."""
    lang = request.query_params.get("lang")
    return lang if lang in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE


# --- 公示: a grid's public page -----------------------------------------------------------------

@dataclass(frozen=True)
class PublicGrid:
    grid_id: int
    name: str
    community: str | None
    population: int
    households: int
    headline: IssueHeadline  # open and overdue now, the rest over the last 12 months
    period_start: date
    issues: pd.DataFrame  # its open issues the public may see: id, title, category, state, reported_at, due_date, overdue
    decisions: pd.DataFrame  # follow_up rows of its last meetings


def public_grid(*, session, grid_id: int) -> PublicGrid | None:
    """What the public page of a grid shows, from the dashboard's own queries (what the public may see), or
    None when there is no such grid."""
    grids = list_grids(session=session)
    match = grids[grids["id"] == grid_id]
    if match.empty:
        return None
    grid = match.iloc[0]
    on = today()
    start = twelve_months_start(on)
    decisions = follow_up(session=session, start=start, end=on, grid_id=grid_id)
    meetings = list(dict.fromkeys(decisions["meeting_id"]))[:LAST_MEETINGS]
    return PublicGrid(
        grid_id=grid_id, name=str(grid["name"]),
        community=None if pd.isna(grid["community"]) else str(grid["community"]),
        population=int(grid["population"]), households=int(grid["households"]),
        headline=issue_headline(session=session, start=start, end=on, grid_id=grid_id),
        period_start=start,
        issues=list_issues(session=session, states=OPEN_STATE_CODES, grid_id=grid_id, may_see_personal_data=False,
                           limit=OPEN_ISSUES_SHOWN)[["id", "title", "category", "state", "reported_at",
                                                     "due_date", "overdue"]],
        decisions=decisions[decisions["meeting_id"].isin(meetings)].reset_index(drop=True),
    )


PUBLIC_STYLE = """*{box-sizing:border-box}body{font-family:system-ui,"Noto Sans CJK SC","Source Sans Pro",sans-serif;
margin:0;color:#1f2430;background:#f6f7f9;font-size:1.05rem;line-height:1.5}
header{background:#b3261e;color:#fff;padding:1rem max(1rem,calc((100% - 58rem)/2)) .8rem}header h1{margin:0;font-size:1.5rem}
header p{margin:.2rem 0 0}header a{color:#fff}main{max-width:60rem;margin:0 auto;padding:.5rem 1rem 2rem}
section{background:#fff;border-radius:.5rem;padding:1rem;margin:1rem 0;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h2{font-size:1.2rem;margin:0 0 .6rem}.gz-figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(9rem,1fr));
gap:.6rem;margin:0;padding:0;list-style:none}.gz-figures li{background:#f6f7f9;border-radius:.4rem;padding:.6rem}
.gz-figures b{display:block;font-size:1.6rem}.gz-list{list-style:none;margin:0;padding:0}
.gz-list li{border-top:1px solid #e1e3e8;padding:.7rem 0}.gz-list li:first-child{border-top:0}
.gz-title{font-weight:600;overflow-wrap:anywhere}.gz-meta{color:#4a4f59;font-size:.92rem}
.gz-steps{display:flex;gap:.2rem;margin:.35rem 0 .15rem;padding:0;list-style:none}
.gz-steps li{flex:1;border:0;padding:.15rem .1rem;font-size:.75rem;text-align:center;background:#e1e3e8;
color:#4a4f59;border-radius:.2rem}.gz-steps li.gz-done{background:#f2c4c0;color:#5c1410}
.gz-steps li.gz-now{background:#b3261e;color:#fff;font-weight:600}
.gz-tag{display:inline-block;border-radius:.2rem;padding:0 .35rem;font-size:.85rem;font-weight:600}
.gz-overdue{background:#fdecea;color:#8c1d18}.gz-on_time{background:#e6f4ea;color:#1e5b2e}
.gz-done-tag{background:#e8eefb;color:#1f3f7a}.gz-other{background:#eef0f3;color:#4a4f59}
.gz-report{display:block;text-align:center;background:#fff;color:#b3261e;font-weight:700;font-size:1.15rem;
border-radius:.4rem;padding:.7rem;margin:.8rem 0 .2rem;text-decoration:none}
.gz-note{color:#4a4f59;font-size:.9rem}
h3.gz-meeting{font-size:1rem;margin:1rem 0 .2rem;padding:.3rem .5rem;background:#f6f7f9;border-radius:.3rem}footer{text-align:center;color:#4a4f59;font-size:.85rem;padding:1rem}"""


def _figure(value: object, label: str) -> str:
    return f"<li><b>{escape_text(value)}</b>{escape_text(label)}</li>"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _number(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _steps(lang: str, state: str) -> str:
    """The five steps of the loop, those passed and the current one marked (screen readers get the
    current one said in words)."""
    position = OPEN_STEPS.index(state) if state in OPEN_STEPS else -1
    items = []
    for index, step in enumerate(OPEN_STEPS):
        css = "gz-now" if index == position else "gz-done" if index < position else ""
        current = ' aria-current="step"' if index == position else ""
        items.append(f'<li class="{css}"{current}>{escape_text(i18n.label(lang, "state", step))}</li>')
    return f'<ol class="gz-steps">{"".join(items)}</ol>'


def _issues_html(lang: str, t, issues: pd.DataFrame) -> str:
    if issues.empty:
        return f'<p class="gz-note">{t("public.no_open_issues")}</p>'
    items = []
    for row in issues.itertuples():
        overdue = f' <span class="gz-tag gz-overdue">{t("public.overdue")}</span>' if row.overdue else ""
        meta = t("public.issue_meta", category=i18n.label(lang, "category", row.category),
                 reported=row.reported_at.strftime("%Y-%m-%d"), due=row.due_date.isoformat())
        items.append(f'<li><div class="gz-title">#{int(row.id)} {escape_text(mask_personal_data(row.title))}{overdue}</div>'
                     f'{_steps(lang, row.state)}<div class="gz-meta">{meta}</div></li>')
    return f'<ul class="gz-list">{"".join(items)}</ul>'


STATUS_CSS = {"overdue": "gz-overdue", "on_time": "gz-on_time", "done": "gz-done-tag"}


def _decision_html(lang: str, row) -> str:
    status = (f'<span class="gz-tag {STATUS_CSS.get(row.status, "gz-other")}">'
              f'{escape_text(i18n.translate_plain(lang, f"meetings.status_{row.status}"))}</span>')
    parts = [i18n.label(lang, "decision", row.decision)]
    if isinstance(row.lead_org_name, str) and row.lead_org_name:
        parts.append(i18n.translate_plain(lang, "public.lead_org", org=row.lead_org_name))
    if row.due_date is not None and not pd.isna(row.due_date):
        parts.append(i18n.translate_plain(lang, "public.due", due=row.due_date.isoformat()))
    return (f'<li><div class="gz-title">#{int(row.issue_id)} {escape_text(mask_personal_data(row.issue_title))} '
            f'{status}</div><div class="gz-meta">{escape_text(" · ".join(parts))}</div></li>')


def _decisions_html(lang: str, t, decisions: pd.DataFrame) -> str:
    """The decisions grouped by meeting, newest meeting first, each with how it stands."""
    if decisions.empty:
        return f'<p class="gz-note">{t("public.no_decisions")}</p>'
    blocks = []
    for _, rows in decisions.groupby("meeting_id", sort=False):
        first = rows.iloc[0]
        meeting = i18n.translate_plain(lang, "public.meeting_line", meeting=first.meeting_title,
                                       held=first.held_at.strftime("%Y-%m-%d"))
        items = "".join(_decision_html(lang, row) for row in rows.itertuples())
        blocks.append(f'<h3 class="gz-meeting">{escape_text(meeting)}</h3><ul class="gz-list">{items}</ul>')
    return "".join(blocks)


def grid_page_html(lang: str, grid: PublicGrid) -> str:
    def t(key: str, **params) -> str:
        return escape_text(i18n.translate_plain(lang, key, **params))

    headline = grid.headline
    figures = "".join((
        _figure(headline.open_issues, i18n.translate_plain(lang, "public.figure_open")),
        _figure(headline.overdue, i18n.translate_plain(lang, "public.figure_overdue")),
        _figure(headline.resolved, i18n.translate_plain(lang, "public.figure_resolved")),
        _figure(_number(headline.median_days_to_resolve), i18n.translate_plain(lang, "public.figure_median_days")),
        _figure(_percent(headline.share_resolved_in_grid), i18n.translate_plain(lang, "public.figure_in_grid")),
        _figure(_percent(headline.on_time_share), i18n.translate_plain(lang, "public.figure_on_time")),
        _figure(_number(headline.mean_rating), i18n.translate_plain(lang, "public.figure_rating")),
        _figure(_percent(headline.share_satisfied), i18n.translate_plain(lang, "public.figure_satisfied")),
    ))
    other = "en" if lang == "zh-CN" else "zh-CN"
    report = (f'<a class="gz-report" href="{site_path(REPORT_PATH + "/" + str(grid.grid_id))}?lang={escape_text(lang)}">'
              f'{t("public.report_link")}</a>' if resident_reports() else "")
    return f"""<!DOCTYPE html>
<html lang="{escape_text(lang)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{t("public.page_title", grid=grid.name)} · Gongzhi 共治</title><link rel="icon" href="{site_path('/favicon.png')}">
<style>{PUBLIC_STYLE}</style></head>
<body><header><h1>{t("public.page_title", grid=grid.name)}</h1><p>{escape_text(grid.community or "")}</p>
<p class="gz-lang"><a href="{site_path(f'{GRID_PATH}/{grid.grid_id}')}?lang={other}" lang="{other}">{t("public.other_language")}</a></p>
{report}</header>
<main>
<section aria-labelledby="gz-figures"><h2 id="gz-figures">{t("public.figures_title")}</h2>
<ul class="gz-figures">{figures}</ul>
<p class="gz-note">{t("public.figures_note", start=grid.period_start.isoformat(), end=today().isoformat(),
                         population=grid.population, households=grid.households)}</p></section>
<section aria-labelledby="gz-issues"><h2 id="gz-issues">{t("public.issues_title", count=len(grid.issues))}</h2>
{_issues_html(lang, t, grid.issues)}</section>
<section aria-labelledby="gz-decisions"><h2 id="gz-decisions">{t("public.decisions_title")}</h2>
{_decisions_html(lang, t, grid.decisions)}</section>
<p class="gz-note">{t("public.privacy_note")}</p>
</main><footer>Gongzhi 共治 · {t("public.updated", day=today().isoformat())}</footer></body></html>"""


def _not_found_html(lang: str) -> str:
    title = escape_text(i18n.translate_plain(lang, "public.no_such_grid"))
    return (f'<!DOCTYPE html><html lang="{escape_text(lang)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>'
            f'<style>{PUBLIC_STYLE}</style></head><body><main><section><h1>{title}</h1></section></main></body></html>')


def _grid_page(grid_id: int, lang: str) -> tuple[str, int]:
    with read_session() as session:
        grid = public_grid(session=session, grid_id=grid_id)
    if grid is None:
        return _not_found_html(lang), 404
    return grid_page_html(lang, grid), 200


async def grid_page(request: Request) -> Response:
    lang = page_language(request)
    body, status = await run_in_threadpool(_grid_page, request.path_params["grid_id"], lang)
    # Public and the same for everyone: a proxy may keep it a minute; the figures change slowly.
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "public, max-age=60"})


# --- Open311 GeoReport v2 ---------------------------------------------------------------------------

def _format(request: Request) -> str | None:
    fmt = request.path_params.get("fmt", "")
    return fmt if fmt in open311.FORMATS else None


def _answer(body: bytes, fmt: str, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type=f"{open311.MEDIA_TYPES[fmt]}; charset=utf-8",
                    headers={"Cache-Control": "no-store", "Access-Control-Allow-Origin": "*"})


Open311Error = open311.Open311HttpError


def _error(error: Open311Error, fmt: str, lang: str) -> Response:
    return _answer(open311.render_errors(error.entries(lang), fmt), fmt, error.status)


def _unknown_format() -> Response:
    entries = [{"code": 404, "description": "format must be json or xml"}]
    return Response(open311.render_errors(entries, "json"), status_code=404, media_type="application/json")


def open311_route(handler: Callable[[Request, str, str], Awaitable[Response]]):
    """An Open311 endpoint: the format from the path (.json or .xml, else 404), the language from
    ?lang, and a refusal answered as the spec's error array in that format."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        fmt = _format(request)
        if fmt is None:
            return _unknown_format()
        lang = page_language(request)
        try:
            return await handler(request, fmt, lang)
        except Open311Error as error:
            return _error(error, fmt, lang)

    return endpoint


@open311_route
async def services(request: Request, fmt: str, lang: str) -> Response:
    return _answer(open311.render(open311.service_list(lang=lang), fmt, kind="services"), fmt)


def _requests(params: dict[str, str], lang: str) -> list[dict]:
    query = open311.parse_request_query(params)
    with read_session() as session:
        return open311.service_requests(session=session, lang=lang, query=query)


@open311_route
async def requests_list(request: Request, fmt: str, lang: str) -> Response:
    if request.method == "POST":
        return await post_request(request, fmt, lang)
    items = await run_in_threadpool(_requests, dict(request.query_params), lang)
    return _answer(open311.render(items, fmt, kind="requests"), fmt)


def _one_request(request_id: int, lang: str):
    with read_session() as session:
        return open311.public_request(session=session, request_id=request_id, lang=lang)


@open311_route
async def request_detail(request: Request, fmt: str, lang: str) -> Response:
    raw = request.path_params["request_id"]
    item = await run_in_threadpool(_one_request, int(raw), lang) if raw.isdigit() else None
    if item is None:
        raise Open311Error(404, "open311.error_not_found", id=raw[:40])
    return _answer(open311.render([item], fmt, kind="requests"), fmt)


def submit(session, report: open311.PostedReport, *, client_address: str) -> ReportReceipt:
    """The resident page's own submission: the same checks (limits per address and phone, lengths,
    national ID numbers) and the same screening queue, with the source Open311. A phone number
    comes only with the resident's consent, which the sending app asked for (README)."""
    return submit_report(session, grid_id=report.grid_id, category=report.category, description=report.description,
                         lat=report.lat, lon=report.lon, phone=report.phone, consent=report.phone is not None,
                         client_address=client_address, source=IssueSource.OPEN311)


def _post(form: dict[str, str], address: str, lang: str) -> ReportReceipt:
    """Check the key, then hand the report to the resident page's submission in one transaction
    (audited under the key: `open311:<key id>`)."""
    if not resident_reports():  # switched off for this deployment: for apps as for the page
        raise Open311Error(403, "open311.error_reports_off")
    key = form.get("api_key")
    with read_session() as session:
        record = api_key_for(session=session, key=key)
        key_id = None if record is None else record.id
    if key_id is None:
        raise Open311Error(403, "open311.error_api_key")
    with write_session(actor=Actor(name=f"open311:{key_id}", role=Role.PUBLIC)) as session:
        if use_api_key(session=session, key=key) is None:  # revoked in the meantime
            raise Open311Error(403, "open311.error_api_key")
        report = open311.posted_report(session=session, form=form, lang=lang)
        return submit(session, report, client_address=address)


async def post_request(request: Request, fmt: str, lang: str) -> Response:
    from gongzhi.web import request_address

    form = {name: str(value) for name, value in (await request.form()).items()}
    form.setdefault("api_key", request.query_params.get("api_key", ""))
    try:
        receipt = await run_in_threadpool(_post, form, request_address(request), lang)
    except Open311Error:
        raise  # answered by open311_route
    except ReportThrottled as error:
        return _error(Open311Error(429, descriptions=[error.plain_message(lang)]), fmt, lang)
    except ValidationError as error:
        with i18n.plain_text():
            messages = error.messages(lang)
        return _error(Open311Error(400, descriptions=messages), fmt, lang)
    except PermissionDenied as error:
        return _error(Open311Error(403, descriptions=[error.plain_message(lang)]), fmt, lang)
    except GongzhiError as error:
        return _error(Open311Error(400, descriptions=[error.plain_message(lang)]), fmt, lang)
    notice = i18n.translate_plain(lang, "open311.created_notice", code=receipt.tracking_code)
    return _answer(open311.render_created(receipt.issue_id, notice, fmt), fmt, 201)


def routes() -> list[Route]:
    """The public grid pages and Open311, under the base URL path (read when the server starts)."""
    return [
        Route(site_path(GRID_PATH + "/{grid_id:int}"), grid_page, methods=["GET", "HEAD"]),
        Route(site_path(OPEN311_PATH + "/services.{fmt}"), services, methods=["GET"]),
        Route(site_path(OPEN311_PATH + "/requests.{fmt}"), requests_list, methods=["GET", "POST"]),
        Route(site_path(OPEN311_PATH + "/requests/{request_id}.{fmt}"), request_detail, methods=["GET"]),
    ]

