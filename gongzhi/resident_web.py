"""The residents' own pages, served by Gongzhi next to Streamlit (app.py adds routes()): no account,
signed out, for a phone's browser (WeChat's built-in one too). Plain server-rendered HTML and
form POSTs, so they work without JavaScript; the optional map is a static script under static/
(the Content-Security-Policy runs no inline script). Every text a person wrote is escaped
(gongzhi.escape.escape_text). Chinese unless `?lang=en`.

- `/report/{grid_id}`: the grid's QR code points here. Big category buttons; then, for the chosen
  category, the grid's open issues of that kind with "me too" (`/report/{grid_id}/metoo`), and the
  form: what and where, a building of the grid, optionally a point on the map, up to 3 photos, an
  optional phone number with the consent line. POSTed to the same path; the core
  (gongzhi.resident_reports.submit_report) saves it whole or says why, and the page keeps what was
  typed. Sent, it redirects to the private tracking link.
- `/track/{token}`: the private link: the five steps with dates, the meeting's decision, the lead
  organisation, the due date; the rating form in resident review (POST to the same path).
- `/track?code=…`: the tracking code alone: the status only.

GONGZHI_RESIDENT_REPORTS=0 switches all of it off (gongzhi.config.resident_reports)."""

from __future__ import annotations

import json
from datetime import date, datetime
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from gongzhi import i18n
from gongzhi.config import basemap, resident_reports, site_path, static_url_prefix
from gongzhi.db import read_session, write_session
from gongzhi.domain import ISSUE_CATEGORIES, FixStatus
from gongzhi.errors import GongzhiError, ValidationError
from gongzhi.escape import escape_text
from gongzhi.geo import display_geometry
from gongzhi.queries.residents import (
    STEPS,
    GridChoice,
    format_code,
    grid_for_report,
    open_issues_like,
    status_by_code,
    tracking_by_token,
)
from gongzhi.resident_reports import (
    MAX_PHOTO_BYTES,
    MAX_PHOTOS,
    ReportThrottled,
    add_me_too,
    rate_by_link,
    submit_report,
)
from gongzhi.validation import COMMENT, DESCRIPTION
from gongzhi.web import _foreign_origin, request_address

REPORT_PATH = "/report"
TRACK_PATH = "/track"
MAX_FILE_PARTS = 10  # more files than this in one POST is not a resident's form
MAX_REQUEST_BYTES = MAX_PHOTOS * MAX_PHOTO_BYTES + 1024 * 1024

STYLE = """*{box-sizing:border-box}body{font-family:system-ui,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;
margin:0;color:#1f2430;background:#f6f7f9;font-size:17px;line-height:1.5}main{max-width:36rem;margin:0 auto;
background:#fff;padding:1rem 1rem 2rem;min-height:100vh}h1{font-size:1.45rem;margin:.3rem 0 .5rem}
h2{font-size:1.15rem;margin:1.4rem 0 .5rem}a{color:#0b57d0}.gz-top{display:flex;justify-content:space-between;
align-items:center;font-size:.95rem;color:#4a4f59}.gz-cats{display:grid;grid-template-columns:1fr 1fr;gap:.6rem;
margin:0;padding:0;list-style:none}.gz-cats a{display:flex;align-items:center;justify-content:center;text-align:center;
min-height:4.2rem;padding:.6rem;border:2px solid #b3261e;border-radius:.6rem;color:#8c1d18;font-weight:600;
text-decoration:none;font-size:1.05rem;background:#fff}.gz-cats a[aria-current]{background:#b3261e;color:#fff}
label{font-weight:600;display:block;margin:.2rem 0}textarea,select,input[type=text],input[type=tel]{width:100%;
font-size:1rem;padding:.6rem;border:1px solid #8a8f98;border-radius:.4rem;background:#fff;color:#1f2430}
textarea{min-height:7rem}input[type=file]{font-size:1rem;width:100%}.gz-field{margin:1rem 0}
.gz-hint{color:#4a4f59;font-size:.9rem;margin:.2rem 0}button,.gz-button{font-size:1.1rem;padding:.8rem 1.2rem;border:0;
border-radius:.5rem;background:#b3261e;color:#fff;cursor:pointer;width:100%;font-weight:600;display:block;
text-align:center;text-decoration:none}button.gz-secondary{background:#fff;color:#8c1d18;border:2px solid #b3261e;
width:auto;font-size:1rem;padding:.45rem .9rem}.gz-error{color:#8c1d18;background:#fdecea;padding:.7rem;
border-radius:.4rem}.gz-ok{color:#0d5323;background:#e6f4ea;padding:.7rem;border-radius:.4rem}
.gz-similar{list-style:none;padding:0;margin:0}.gz-similar li{border:1px solid #d5d8de;border-radius:.5rem;
padding:.6rem;margin:.5rem 0}.gz-similar form{margin-top:.4rem}.gz-consent{display:flex;gap:.6rem;align-items:flex-start;
font-weight:400}.gz-consent input{width:1.4rem;height:1.4rem;flex:none;margin-top:.15rem}.gz-pot{position:absolute;
left:-10000px;width:1px;height:1px;overflow:hidden}.gz-code{font-size:1.8rem;font-weight:700;letter-spacing:.12em;
font-family:ui-monospace,monospace}.gz-link{word-break:break-all;background:#eef0f3;padding:.5rem;border-radius:.4rem;
font-family:ui-monospace,monospace;font-size:.85rem}.gz-steps{list-style:none;padding:0;margin:0;counter-reset:s}
.gz-steps li{padding:.5rem .6rem .5rem 2.6rem;position:relative;border-left:3px solid #d5d8de;margin-left:.8rem}
.gz-steps li::before{counter-increment:s;content:counter(s);position:absolute;left:-.95rem;top:.45rem;width:1.7rem;
height:1.7rem;border-radius:50%;background:#d5d8de;color:#1f2430;text-align:center;font-weight:700;line-height:1.7rem}
.gz-steps li.gz-done::before{background:#0d5323;color:#fff}.gz-steps li.gz-now::before{background:#b3261e;color:#fff}
.gz-steps .gz-when{display:block;color:#4a4f59;font-size:.9rem}dl{margin:0}dt{font-weight:600;margin-top:.6rem}
dd{margin:0}fieldset{border:0;padding:0;margin:1rem 0}legend{font-weight:600;margin-bottom:.3rem}
.gz-choices{display:flex;flex-wrap:wrap;gap:.5rem}.gz-choices label{font-weight:400;border:1px solid #8a8f98;
border-radius:.4rem;padding:.5rem .8rem;display:flex;gap:.4rem;align-items:center;min-height:2.8rem}
.gz-choices.gz-scores{flex-wrap:nowrap;gap:.35rem}.gz-choices.gz-scores label{flex:1 1 0;min-width:0;
justify-content:center;padding:.5rem .2rem}#gz-map{height:14rem;border:1px solid #8a8f98;border-radius:.4rem;margin:.4rem 0}.gz-js-only{display:none}
footer{margin-top:2rem;color:#4a4f59;font-size:.85rem}"""


def _t(lang: str, key: str, **params) -> str:
    """A catalogue text as escaped HTML text."""
    return escape_text(i18n.translate_plain(lang, key, **params))


def _label(lang: str, namespace: str, code: str | None) -> str:
    return _t(lang, f"{namespace}.{code}") if code else ""


def page_language(request: Request, form_lang: object = None) -> str:
    """Chinese unless the link or the form asks for English (?lang=en)."""
    for value in (form_lang, request.query_params.get("lang")):
        if value in i18n.LANGUAGES:
            return str(value)
    return i18n.DEFAULT_LANGUAGE


def _with_lang(path: str, lang: str, **params) -> str:
    query = {**params, **({"lang": lang} if lang != i18n.DEFAULT_LANGUAGE else {})}
    return site_path(path) + (f"?{urlencode(query)}" if query else "")


def _when(moment: datetime | date | None) -> str:
    if moment is None:
        return ""
    return moment.strftime("%Y-%m-%d %H:%M") if isinstance(moment, datetime) else moment.isoformat()


def _page(lang: str, title: str, body: str, *, switch_to: str, status_code: int = 200, head: str = "",
          scripts: tuple[str, ...] = ()) -> HTMLResponse:
    """A whole page; `title` is escaped HTML already; `switch_to` the same page in the other language."""
    other = "en" if lang == "zh-CN" else "zh-CN"
    script_tags = "".join(f'<script src="{escape_text(src)}"></script>' for src in scripts)
    html = f"""<!DOCTYPE html>
<html lang="{escape_text(lang)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title} · 共治 Gongzhi</title><link rel="icon" href="{site_path('/favicon.png')}"><style>{STYLE}</style>{head}</head>
<body><main><div class="gz-top"><span>共治 Gongzhi</span>
<a href="{escape_text(switch_to)}" lang="{escape_text(other)}">{_t(lang, "residents.lang_switch")}</a></div>
{body}<footer>{_t(lang, "residents.privacy_footer")}</footer></main>{script_tags}</body></html>"""
    # The site-wide Referrer-Policy (same-origin) keeps the private link from other sites; a
    # stricter no-referrer would make browsers send `Origin: null` with the forms, refused as foreign.
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


def _message_page(lang: str, key: str, *, status_code: int, switch_to: str) -> HTMLResponse:
    title = _t(lang, key)
    return _page(lang, title, f"<h1>{title}</h1>", switch_to=switch_to, status_code=status_code)


def _disabled(lang: str, path: str) -> HTMLResponse:
    return _message_page(lang, "residents.disabled", status_code=404,
                         switch_to=_with_lang(path, "en" if lang == "zh-CN" else "zh-CN"))


# --- the report page -----------------------------------------------------------------------------

def _grid(grid_id: int) -> GridChoice | None:
    with read_session() as session:
        return grid_for_report(session, grid_id)


def _similar(grid_id: int, category: str):
    with read_session() as session:
        return open_issues_like(session, grid_id=grid_id, category=category)


def _categories_html(lang: str, grid: GridChoice, chosen: str | None) -> str:
    items = []
    for code in ISSUE_CATEGORIES:
        current = ' aria-current="true"' if code == chosen else ""
        href = _with_lang(f"{REPORT_PATH}/{grid.id}", lang, category=code)
        items.append(f'<li><a href="{escape_text(href)}"{current}>{_label(lang, "category", code)}</a></li>')
    return f'<ul class="gz-cats">{"".join(items)}</ul>'


def _similar_html(lang: str, grid: GridChoice, category: str, similar) -> str:
    if not similar:
        return f'<h2>{_t(lang, "residents.similar_title")}</h2><p class="gz-hint">{_t(lang, "residents.similar_none")}</p>'
    items = []
    for issue in similar:
        affected = f' · {_t(lang, "residents.me_too_count", n=issue.residents_affected)}' if issue.residents_affected else ""
        items.append(
            f'<li><strong>{escape_text(issue.title)}</strong><br>'
            f'<span class="gz-hint">{_label(lang, "state", issue.state)}{affected}</span>'
            f'<form method="post" action="{site_path(REPORT_PATH + "/" + str(grid.id) + "/metoo")}">'
            f'<input type="hidden" name="issue_id" value="{issue.id}">'
            f'<input type="hidden" name="category" value="{escape_text(category)}">'
            f'<input type="hidden" name="lang" value="{escape_text(lang)}">'
            f'<button type="submit" class="gz-secondary">{_t(lang, "residents.me_too")}</button></form></li>')
    return (f'<h2>{_t(lang, "residents.similar_title")}</h2><p class="gz-hint">{_t(lang, "residents.similar_intro")}</p>'
            f'<ul class="gz-similar">{"".join(items)}</ul>')


def _map_html(lang: str, grid: GridChoice, values: dict[str, str]) -> str:
    """A point on the map, set by static/gongzhi-report.js (hidden without JavaScript)."""
    config = basemap()
    tiles = config.tiles[0] if config.tiles and not config.gcj02 else None
    centre = grid.centroid or (None, None)
    data = {
        "lat": centre[0], "lon": centre[1], "boundary": display_geometry(grid.boundary),
        "tiles": tiles.url if tiles else "", "subdomains": tiles.subdomains if tiles else "",
        "attribution": tiles.attribution if tiles else "",
        "chosen": i18n.translate_plain(lang, "residents.point_chosen"),
        "none": i18n.translate_plain(lang, "residents.point_none"),
    }
    return f"""<div class="gz-field gz-js-only" id="gz-map-field"><label>{_t(lang, "residents.point_label")}</label>
<div id="gz-map" data-config="{escape_text(json.dumps(data, ensure_ascii=False))}"></div>
<p class="gz-hint" id="gz-point-status" aria-live="polite">{_t(lang, "residents.point_none")}</p>
<input type="hidden" name="lat" id="gz-lat" value="{escape_text(values.get("lat", ""))}">
<input type="hidden" name="lon" id="gz-lon" value="{escape_text(values.get("lon", ""))}"></div>
<noscript><p class="gz-hint">{_t(lang, "residents.no_js_map")}</p></noscript>"""


def _form_html(lang: str, grid: GridChoice, category: str, values: dict[str, str], errors: list[str]) -> str:
    notice = ""
    if errors:
        items = "".join(f"<li>{escape_text(message)}</li>" for message in errors)
        notice = f'<div class="gz-error" role="alert"><strong>{_t(lang, "residents.errors_title")}</strong><ul>{items}</ul></div>'
    options = [f'<option value="">{_t(lang, "residents.no_building")}</option>']
    for building_id, name in grid.buildings:
        selected = " selected" if values.get("building_id") == str(building_id) else ""
        options.append(f'<option value="{building_id}"{selected}>{escape_text(name)}</option>')
    building = "" if not grid.buildings else (
        f'<div class="gz-field"><label for="gz-building">{_t(lang, "residents.field_building")}</label>'
        f'<select id="gz-building" name="building_id">{"".join(options)}</select></div>')
    consent = " checked" if values.get("consent") else ""
    return f"""<form method="post" action="{site_path(f'{REPORT_PATH}/{grid.id}')}" enctype="multipart/form-data" id="gz-report" data-once>
{notice}<input type="hidden" name="category" value="{escape_text(category)}">
<input type="hidden" name="lang" value="{escape_text(lang)}">
<h2>{_t(lang, "residents.describe")}</h2>
<div class="gz-field"><label for="gz-description">{_t(lang, "residents.field_description")}</label>
<p class="gz-hint" id="gz-description-hint">{_t(lang, "residents.describe_hint")}</p>
<textarea id="gz-description" name="description" maxlength="{DESCRIPTION.max_length}" required
 aria-describedby="gz-description-hint">{escape_text(values.get("description", ""))}</textarea></div>
{building}{_map_html(lang, grid, values)}
<div class="gz-pot" aria-hidden="true"><label for="gz-website">Website</label>
<input type="text" id="gz-website" name="website" tabindex="-1" autocomplete="off" value=""></div>
<h2>{_t(lang, "residents.photos_label", max=MAX_PHOTOS)}</h2>
<div class="gz-field"><label for="gz-photos" class="gz-hint">{_t(lang, "residents.photos_hint")}</label>
<input type="file" id="gz-photos" name="photos" accept="image/*" multiple></div>
<h2>{_t(lang, "residents.phone_label")}</h2>
<div class="gz-field"><label for="gz-phone">{_t(lang, "residents.field_phone")}</label>
<input type="tel" id="gz-phone" name="phone" maxlength="20" autocomplete="tel" inputmode="tel"
 value="{escape_text(values.get("phone", ""))}"></div>
<label class="gz-consent"><input type="checkbox" name="consent" value="1"{consent}>
<span>{_t(lang, "residents.consent")}</span></label>
<p class="gz-hint">{_t(lang, "residents.pipl_note")}</p>
<div class="gz-field"><button type="submit">{_t(lang, "residents.send")}</button></div>
</form>"""


def report_page(lang: str, grid: GridChoice, category: str | None, *, values: dict[str, str] | None = None,
                errors: list[str] | None = None, notice: str = "", status_code: int = 200) -> HTMLResponse:
    """Categories as big buttons; with one chosen, the similar open issues and the form."""
    title = _t(lang, "residents.page_title", grid=grid.name)
    other = "en" if lang == "zh-CN" else "zh-CN"
    switch = _with_lang(f"{REPORT_PATH}/{grid.id}", other, **({"category": category} if category else {}))
    body = [f"<h1>{title}</h1>", f'<p>{_t(lang, "residents.intro")}</p>', notice,
            f'<h2>{_t(lang, "residents.choose_category")}</h2>', _categories_html(lang, grid, category)]
    track = f'<p><a href="{escape_text(_with_lang(TRACK_PATH, lang))}">{_t(lang, "residents.check_progress")}</a></p>'
    head, scripts = "", ()
    if category:
        body.append(_similar_html(lang, grid, category, _similar(grid.id, category)))
        body.append(_form_html(lang, grid, category, values or {}, errors or []))
        static = static_url_prefix()
        head = f'<link rel="stylesheet" href="{static}/leaflet/leaflet.css">'
        scripts = (f"{static}/leaflet/leaflet.js", f"{static}/gongzhi-report.js")
    body.append(track)
    return _page(lang, title, "\n".join(body), switch_to=switch, status_code=status_code, head=head, scripts=scripts)


def _grid_id(request: Request) -> int | None:
    try:
        return int(request.path_params["grid_id"])
    except (KeyError, ValueError):
        return None


def _optional_int(value: object) -> int | None:
    try:
        return int(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


def _optional_float(value: object) -> float | None:
    try:
        return float(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


def _error_messages(lang: str, error: GongzhiError) -> list[str]:
    with i18n.plain_text():
        return error.messages(lang) if isinstance(error, ValidationError) else [error.message(lang)]


def _submit(fields: dict) -> str:
    with write_session() as session:
        return submit_report(session, **fields).token


async def _photos(form) -> list[bytes]:
    photos = []
    for part in form.getlist("photos"):
        if isinstance(part, UploadFile) and part.filename:
            photos.append(await part.read(MAX_PHOTO_BYTES + 1))
    return photos


async def report(request: Request) -> Response:
    grid_id = _grid_id(request)
    if request.method == "GET":
        lang = page_language(request)
        if not resident_reports():
            return _disabled(lang, request.url.path)
        grid = None if grid_id is None else await run_in_threadpool(_grid, grid_id)
        if grid is None:
            return _message_page(lang, "residents.grid_not_found", status_code=404, switch_to=request.url.path)
        category = request.query_params.get("category")
        return report_page(lang, grid, category if category in ISSUE_CATEGORIES else None)
    return await _post_report(request, grid_id)


async def _post_report(request: Request, grid_id: int | None) -> Response:
    lang = page_language(request)
    if not resident_reports():
        return _disabled(lang, request.url.path)
    if _foreign_origin(request):
        return Response(status_code=403)
    length = request.headers.get("content-length") or "0"
    if not length.isdigit() or int(length) > MAX_REQUEST_BYTES:
        return _too_large(lang, request)
    grid = None if grid_id is None else await run_in_threadpool(_grid, grid_id)
    if grid is None:
        return _message_page(lang, "residents.grid_not_found", status_code=404, switch_to=request.url.path)
    try:
        form = await request.form(max_files=MAX_FILE_PARTS, max_fields=40)
    except Exception:  # noqa: BLE001 - a malformed or oversized multipart body: say so, keep the page
        return _too_large(lang, request)
    lang = page_language(request, form.get("lang"))
    category = str(form.get("category") or "")
    values = {name: str(form.get(name) or "")[:4000] for name in
              ("description", "building_id", "lat", "lon", "phone", "consent")}
    fields = dict(grid_id=grid.id, category=category, description=values["description"],
                  building_id=_optional_int(values["building_id"]), lat=_optional_float(values["lat"]),
                  lon=_optional_float(values["lon"]), photos=await _photos(form), phone=values["phone"] or None,
                  consent=bool(values["consent"]), client_address=request_address(request),
                  honeypot=str(form.get("website") or ""))
    try:
        token = await run_in_threadpool(_submit, fields)
    except GongzhiError as error:
        status = 429 if isinstance(error, ReportThrottled) else 400
        return report_page(lang, grid, category if category in ISSUE_CATEGORIES else None, values=values,
                           errors=_error_messages(lang, error), status_code=status)
    return RedirectResponse(_with_lang(f"{TRACK_PATH}/{quote(token)}", lang, new="1"), status_code=303)


def _too_large(lang: str, request: Request) -> HTMLResponse:
    return _page(lang, _t(lang, "residents.errors_title"),
                 f'<p class="gz-error" role="alert">{_t(lang, "residents.photo_too_large", mb=MAX_PHOTO_BYTES // 1048576)}</p>'
                 f'<p><a href="{escape_text(request.url.path)}">←</a></p>', switch_to=request.url.path, status_code=413)


def _me_too(issue_id: int, address: str) -> int:
    with write_session() as session:
        return add_me_too(session, issue_id=issue_id, client_address=address)


async def me_too(request: Request) -> Response:
    lang = page_language(request)
    if not resident_reports():
        return _disabled(lang, request.url.path)
    if _foreign_origin(request):
        return Response(status_code=403)
    grid_id = _grid_id(request)
    grid = None if grid_id is None else await run_in_threadpool(_grid, grid_id)
    if grid is None:
        return _message_page(lang, "residents.grid_not_found", status_code=404, switch_to=request.url.path)
    form = await request.form(max_files=0, max_fields=10)
    lang = page_language(request, form.get("lang"))
    category = str(form.get("category") or "")
    category = category if category in ISSUE_CATEGORIES else None
    issue_id = _optional_int(form.get("issue_id"))
    try:
        count = await run_in_threadpool(_me_too, issue_id or 0, request_address(request))
    except GongzhiError as error:
        notice = f'<p class="gz-error" role="alert">{escape_text(error.plain_message(lang))}</p>'
        return report_page(lang, grid, category, notice=notice, status_code=429 if isinstance(error, ReportThrottled) else 404)
    notice = f'<p class="gz-ok" role="status">{_t(lang, "residents.me_too_done", n=count)}</p>'
    return report_page(lang, grid, category, notice=notice)


# --- tracking ------------------------------------------------------------------------------------

def _tracking(token: str):
    with read_session() as session:
        return tracking_by_token(session, token)


def _status(code: str):
    with read_session() as session:
        return status_by_code(session, code)


def _status_html(lang: str, view) -> str:
    if view.outcome == "merged" and view.merged_into:
        line = _t(lang, "residents.status_merged", id=view.merged_into)
    elif view.outcome == "rejected":
        line = _t(lang, "residents.status_rejected", reason=i18n.translate_plain(lang, f"reject_reason.{view.reject_reason}"))
    elif view.awaiting_screening:
        line = _t(lang, "residents.status_awaiting")
    else:
        line = _t(lang, "residents.status_now", state=i18n.translate_plain(lang, f"state.{view.state}"))
    return (f'<p><strong>{escape_text(view.title)}</strong><br><span class="gz-hint">'
            f'{_label(lang, "category", view.category)} · {escape_text(view.grid)} · '
            f'{_t(lang, "residents.code_label")} {escape_text(format_code(view.tracking_code))}</span></p>'
            f'<p class="gz-ok" role="status" id="gz-status">{line}</p>')


def _steps_html(lang: str, view) -> str:
    current = view.state if view.state in {s.value for s in STEPS} else None
    last_reached = max((i for i, step in enumerate(view.steps) if step.reached_at is not None), default=-1)
    items = []
    for position, step in enumerate(view.steps):
        css = "gz-now" if step.state == current else "gz-done" if step.reached_at is not None else ""
        pending = "residents.step_skipped" if position < last_reached else "residents.step_pending"
        when = _when(step.reached_at) if step.reached_at else _t(lang, pending)
        items.append(f'<li class="{css}" data-step="{escape_text(step.state)}">{_label(lang, "state", step.state)}'
                     f'<span class="gz-when">{escape_text(when)}</span></li>')
    closing = ""
    if view.closed_at is not None and view.state in ("closed", "closed_unrated"):
        state = i18n.translate_plain(lang, f"state.{view.state}")
        closing = f'<p class="gz-hint">{_t(lang, "residents.closed_on", date=_when(view.closed_at), state=state)}</p>'
    return f'<h2>{_t(lang, "residents.steps_title")}</h2><ol class="gz-steps">{"".join(items)}</ol>{closing}'


def _facts_html(lang: str, view) -> str:
    facts = []
    if view.decision:
        note = f"<br>{escape_text(view.decision_note)}" if view.decision_note else ""
        facts.append(f'<dt>{_t(lang, "residents.decision_title")}</dt><dd>{_label(lang, "decision", view.decision)}{note}</dd>')
    if view.lead_organisation:
        facts.append(f'<dt>{_t(lang, "residents.lead_title")}</dt><dd>{escape_text(view.lead_organisation)}</dd>')
    if view.due_date:
        facts.append(f'<dt>{_t(lang, "residents.due_title")}</dt><dd>{escape_text(_when(view.due_date))}</dd>')
    if view.reject_note:
        facts.append(f'<dt>{_t(lang, "residents.reason_title")}</dt><dd>{escape_text(view.reject_note)}</dd>')
    extra = []
    if view.reopen_count:
        extra.append(_t(lang, "residents.reopened", n=view.reopen_count))
    if view.residents_affected:
        extra.append(_t(lang, "residents.affected", n=view.residents_affected))
    if view.rating is not None and view.fix_status and not view.may_rate:
        extra.append(_t(lang, "residents.your_rating", rating=view.rating,
                        fix=i18n.translate_plain(lang, f"fix_status.{view.fix_status}")))
    paragraphs = "".join(f'<p class="gz-hint">{line}</p>' for line in extra)
    return (f"<dl>{''.join(facts)}</dl>" if facts else "") + paragraphs


def _rating_html(lang: str, token: str, errors: list[str], values: dict[str, str]) -> str:
    notice = ""
    if errors:
        notice = '<div class="gz-error" role="alert"><ul>' + "".join(f"<li>{escape_text(m)}</li>" for m in errors) + "</ul></div>"
    scores = "".join(
        f'<label><input type="radio" name="rating" value="{n}" required{" checked" if values.get("rating") == str(n) else ""}>{n}</label>'
        for n in range(1, 6))
    fixes = "".join(
        f'<label><input type="radio" name="fix_status" value="{f.value}" required'
        f'{" checked" if values.get("fix_status") == f.value else ""}>{_label(lang, "fix_status", f.value)}</label>'
        for f in FixStatus)
    return f"""<h2>{_t(lang, "residents.rate_title")}</h2><p class="gz-hint">{_t(lang, "residents.rate_intro")}</p>
<form method="post" action="{escape_text(site_path(f'{TRACK_PATH}/{quote(token)}'))}" id="gz-rate" data-once>{notice}
<input type="hidden" name="lang" value="{escape_text(lang)}">
<fieldset><legend>{_t(lang, "residents.rate_score")}</legend><div class="gz-choices gz-scores">{scores}</div></fieldset>
<fieldset><legend>{_t(lang, "residents.rate_fixed")}</legend><div class="gz-choices">{fixes}</div></fieldset>
<div class="gz-field"><label for="gz-comment">{_t(lang, "residents.rate_comment")}</label>
<textarea id="gz-comment" name="comment" maxlength="{COMMENT.max_length}">{escape_text(values.get("comment", ""))}</textarea></div>
<button type="submit">{_t(lang, "residents.rate_submit")}</button></form>"""


def _received_html(lang: str, request: Request, view, token: str) -> str:
    link = str(request.base_url).rstrip("/") + site_path(f"{TRACK_PATH}/{quote(token)}")
    return f"""<div class="gz-ok" role="status"><h2>{_t(lang, "residents.sent_title")}</h2>
<p>{_t(lang, "residents.sent_intro")}</p>
<p>{_t(lang, "residents.code_label")}<br><span class="gz-code" id="gz-code">{escape_text(format_code(view.tracking_code))}</span><br>
<span class="gz-hint">{_t(lang, "residents.code_hint")}</span></p>
<p>{_t(lang, "residents.link_label")}<br><span class="gz-link" id="gz-link">{escape_text(link)}</span><br>
<span class="gz-hint">{_t(lang, "residents.link_hint")}</span></p></div>"""


def tracking_page(request: Request, lang: str, token: str, view, *, errors: list[str] | None = None,
                  values: dict[str, str] | None = None, notice: str = "", status_code: int = 200) -> HTMLResponse:
    title = _t(lang, "residents.track_title")
    other = "en" if lang == "zh-CN" else "zh-CN"
    body = [f"<h1>{title}</h1>"]
    if request.query_params.get("new"):
        body.append(_received_html(lang, request, view, token))
    body += [notice, _status_html(lang, view), _steps_html(lang, view), _facts_html(lang, view)]
    scripts: tuple[str, ...] = ()
    if view.may_rate:
        body.append(_rating_html(lang, token, errors or [], values or {}))
        scripts = (f"{static_url_prefix()}/gongzhi-report.js",)
    return _page(lang, title, "\n".join(body), switch_to=_with_lang(f"{TRACK_PATH}/{quote(token)}", other),
                 status_code=status_code, scripts=scripts)


def _rate(token: str, rating: int | None, fix_status: str, comment: str) -> str:
    with write_session() as session:
        return rate_by_link(session, token=token, rating=rating, fix_status=fix_status, comment=comment).state


async def track(request: Request) -> Response:
    lang = page_language(request)
    if not resident_reports():
        return _disabled(lang, request.url.path)
    token = request.path_params["token"]
    if request.method == "POST":
        if _foreign_origin(request):
            return Response(status_code=403)
        form = await request.form(max_files=0, max_fields=10)
        lang = page_language(request, form.get("lang"))
        values = {name: str(form.get(name) or "")[:2000] for name in ("rating", "fix_status", "comment")}
        try:
            state = await run_in_threadpool(_rate, token, _optional_int(values["rating"]), values["fix_status"],
                                            values["comment"])
        except GongzhiError as error:
            view = await run_in_threadpool(_tracking, token)
            if view is None:
                return _not_found(lang)
            return tracking_page(request, lang, token, view, errors=_error_messages(lang, error), values=values,
                                 status_code=400)
        return RedirectResponse(_with_lang(f"{TRACK_PATH}/{quote(token)}", lang,
                                           rated="closed" if state == "closed" else "reopened"), status_code=303)
    view = await run_in_threadpool(_tracking, token)
    if view is None:
        return _not_found(lang)
    rated = request.query_params.get("rated")
    notice = ""
    if rated in ("closed", "reopened"):
        notice = f'<p class="gz-ok" role="status" id="gz-rated">{_t(lang, f"residents.rated_{rated}")}</p>'
    return tracking_page(request, lang, token, view, notice=notice)


def _code_form(lang: str, code: str = "") -> str:
    return (f'<form method="get" action="{site_path(TRACK_PATH)}"><input type="hidden" name="lang" value="{escape_text(lang)}">'
            f'<div class="gz-field"><label for="gz-code-input">{_t(lang, "residents.track_code_field")}</label>'
            f'<input type="text" id="gz-code-input" name="code" maxlength="20" autocapitalize="characters" '
            f'value="{escape_text(code)}"></div><button type="submit">{_t(lang, "residents.track_code_submit")}</button></form>')


def _not_found(lang: str) -> HTMLResponse:
    title = _t(lang, "residents.track_code_title")
    body = f'<h1>{title}</h1><p class="gz-error" role="alert">{_t(lang, "residents.track_not_found")}</p>{_code_form(lang)}'
    return _page(lang, title, body, switch_to=_with_lang(TRACK_PATH, "en" if lang == "zh-CN" else "zh-CN"),
                 status_code=404)


async def track_code(request: Request) -> Response:
    """The tracking code alone: the status, nothing more."""
    lang = page_language(request)
    if not resident_reports():
        return _disabled(lang, request.url.path)
    code = request.query_params.get("code", "")[:20]
    title = _t(lang, "residents.track_code_title")
    switch = _with_lang(TRACK_PATH, "en" if lang == "zh-CN" else "zh-CN", **({"code": code} if code else {}))
    if not code:
        return _page(lang, title, f"<h1>{title}</h1>{_code_form(lang)}", switch_to=switch)
    view = await run_in_threadpool(_status, code)
    if view is None:
        return _not_found(lang)
    return _page(lang, title, f"<h1>{title}</h1>{_status_html(lang, view)}{_code_form(lang, code)}", switch_to=switch)


def routes() -> list[Route]:
    """The residents' routes, under the base URL path (read when the server starts)."""
    return [
        Route(site_path(REPORT_PATH + "/{grid_id}"), report, methods=["GET", "POST"]),
        Route(site_path(REPORT_PATH + "/{grid_id}/metoo"), me_too, methods=["POST"]),
        Route(site_path(TRACK_PATH), track_code, methods=["GET"]),
        Route(site_path(TRACK_PATH + "/{token}"), track, methods=["GET", "POST"]),
    ]
