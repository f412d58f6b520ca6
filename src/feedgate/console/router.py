"""The operator console at /console: server-rendered pages, live by server-sent events, acting only
through the API's own services and tenancy. No build step: templates and a few lines of script."""

import asyncio
import hmac
import json
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from feedgate.auth.dependencies import SignatureCheck, token_owner
from feedgate.auth.service import KeyCache
from feedgate.auth.tokens import token_query
from feedgate.console import sessions, views
from feedgate.console.live import ConsoleFeed
from feedgate.console.previews import Previews
from feedgate.console.sessions import COOKIE, Brake, Signed
from feedgate.failover import service as failover
from feedgate.failover.health import HealthTable
from feedgate.failover.registry import Registry
from feedgate.failover.schemas import ActivateSlicer, GroupUpdate
from feedgate.failover.severity import Assessment, assess_all, summary
from feedgate.kit.actor import act_as
from feedgate.kit.db import Database
from feedgate.kit.errors import FeedgateError
from feedgate.kit.pagination import PageQuery
from feedgate.kit.time import clock_ms, iso_ms, ms_to_datetime, now_ms
from feedgate.operators import service as operators
from feedgate.operators.schemas import AuditEntry as AuditEntryShape
from feedgate.operators.schemas import Operator as OperatorShape
from feedgate.operators.schemas import OperatorCreate, OperatorUpdate
from feedgate.playback.service import ViewerQuery, playback_decision, token_viewer
from feedgate.playback.state import DecisionState
from feedgate.programs import service as programs
from feedgate.programs.schemas import ProgramStart
from feedgate.settings import Settings
from feedgate.stream.service import StreamService

router = APIRouter(prefix="/console", include_in_schema=False)


@dataclass(frozen=True)
class ConsoleParts:
    """What the console reads and acts through, handed in by the runtime (the console sits below the app)."""

    db: Database
    keys: KeyCache
    settings: Settings
    signatures: SignatureCheck
    decisions: DecisionState
    stream: StreamService
    feed: ConsoleFeed
    brake: Brake
    registry: Registry
    health: HealthTable
    frozen: Callable[[], set[str]]
    previews: Previews
    held: Callable[[], set[str]]  # groups a fleet-wide disruption holds (engine leader; empty elsewhere)

    def assessments(self, owner: str) -> list[Assessment]:
        """Every group this user owns or is allowed into, worst first, from memory (no database)."""
        groups = list(self.registry.current.groups.values())
        return self.assessments_of([g.id for g in groups if g.owner == owner or owner in g.allowed])

    def assessments_of(self, group_ids: Iterable[str]) -> list[Assessment]:
        return assess_all(self.registry.current, group_ids, self.health.get, self.frozen(), clock_ms(), now_ms(),
                          self.held())

    def blackouts_now(self, cards: list[dict[str, Any]]) -> None:
        """Mark each card's channels with the blackout in force now (what some of their viewers see instead)."""
        plans, now = self.decisions.snapshot().channels, now_ms()
        for card in cards:
            card["blackouts_now"] = {c["id"]: bid for c in card["channels"]
                                     if (plan := plans.get(c["id"])) is not None and (bid := plan.blackout_at(now))}

    def assessment(self, group_id: str) -> Assessment | None:
        found = self.assessments_of([group_id])
        return found[0] if found else None

    def api_key(self, user_id: str) -> str | None:
        return self.keys.api_key(self.db, user_id)


def parts(request: Request) -> ConsoleParts:
    return request.app.state.runtime.console
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
USER_ID = re.compile(r"^[0-9a-f]{32}$")  # a tenant's user ID signs in with the API key; anything else is a login
AGE_KEY = re.compile(r'data-age-key="([^"]+)"')
WATCH_TOKEN_S = 4 * 3600  # the watch page's own playback token
templates.env.filters["when"] = lambda ms: iso_ms(ms_to_datetime(ms)) if ms else "never"
templates.env.filters["clock"] = lambda ms: ms_to_datetime(ms).strftime("%H:%M:%S UTC")
ACTIONS = {"activate": "Activate slicer {slicer} (it goes on air for every channel of the group)",
           "failback_off_activate": "Turn automatic failback off and activate slicer {slicer}",
           "slate_on": "Put the group on slate (no slicer on air)",
           "slate_off": "Take the group off slate (back to a slicer)",
           "failback_on": "Turn automatic failback on", "failback_off": "Turn automatic failback off"}


def _signed(request: Request) -> Signed | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    console = parts(request)
    with console.db.read_sessions() as session:
        return sessions.current(session, token, console.api_key)


def _page(request: Request, name: str, signed: Signed | None, status: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"signed": signed, **context}, status_code=status)


def _login_redirect(request: Request | None = None) -> RedirectResponse:
    """To the sign-in form; from a page (a GET), with that page as `next`, so signing in returns there."""
    if request is None or request.method != "GET":
        return RedirectResponse("/console/login", status_code=303)
    asked = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/console/login?next={quote(asked, safe='')}", status_code=303)


def _next(value: str) -> str:
    """Where to go after signing in: a console page only (never another site: no open redirect)."""
    ok = value.startswith("/console") and not value.startswith("//") and "\\" not in value and \
        all(c.isprintable() for c in value)
    return value if ok and not value.startswith("/console/login") else "/console"


def _error(request: Request, signed: Signed, error: FeedgateError) -> HTMLResponse:
    return _page(request, "error.html", signed, status=error.status, error=error)


def _guard(request: Request, csrf: str, acting: str = "", admin: bool = False) -> Signed | Response:
    """Every form POST: a signed-in session, and that session's CSRF token (else nothing is done). `acting`
    (what is done, in words) also needs a role that acts, and names the person in events and the audit log;
    `admin`, the admin role (accounts)."""
    signed = _signed(request)
    if signed is None:
        return _login_redirect(request)
    if not csrf or not hmac.compare_digest(signed.csrf, csrf):
        return _error(request, signed, FeedgateError(403, "The form's CSRF token is missing or wrong; reload it."))
    if admin and signed.role != "admin":
        return _error(request, signed, FeedgateError(403, f"Your role is {signed.role}: accounts are for admins."))
    if acting:
        if not signed.can_act:
            return _error(request, signed, FeedgateError(403, f"Your role is {signed.role}: you can look, not "
                                                              "act. An admin can change it."))
        act_as(signed.actor(f"console: {acting}"))
    return signed


LOGIN_CSRF = "feedgate_login_csrf"


def _login_page(request: Request, status: int = 200, message: str | None = None, next: str = "") -> Response:
    """The sign-in form with a fresh CSRF token, in the form and in a cookie of its own: a page elsewhere can
    post the form but cannot read the cookie, so it cannot sign a victim's browser in as someone else."""
    token = secrets.token_urlsafe(24)
    response = _page(request, "login.html", None, status=status, message=message, login_csrf=token,
                     next=_next(next or request.query_params.get("next", "")))
    response.set_cookie(LOGIN_CSRF, token, max_age=3600, httponly=True, samesite="strict", path="/console",
                        secure=parts(request).settings.console_secure_cookie or request.url.scheme == "https")
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
def login(request: Request, user_id: str = Form(""), api_key: str = Form(""), csrf: str = Form(""),
          next: str = Form(""), code: str = Form("")) -> Response:
    console = parts(request)
    expected = request.cookies.get(LOGIN_CSRF, "")
    if not expected or not csrf or not hmac.compare_digest(expected, csrf):
        return _login_page(request, 403, "The sign-in form had expired or came from elsewhere; sign in again.", next)
    address = request.client.host if request.client else "?"
    if console.brake.blocked(address):
        return _login_page(request, 429, "Too many failed sign-ins from your address: wait a minute and try again.",
                           next)
    hours = console.settings.console_session_h
    with console.db.sessions() as session:
        token = sessions.sign_in(session, user_id.strip(), api_key.strip(), hours) if USER_ID.match(user_id.strip()) \
            else sessions.sign_in_operator(session, user_id, api_key, code, hours)
    if token is None:
        console.brake.failed(address)
        return _login_page(request, 401, "The login, password or code (or user ID and API key) is not right.",
                           next)
    response = RedirectResponse(_next(next), status_code=303)
    secure = console.settings.console_secure_cookie or request.url.scheme == "https"
    response.set_cookie(COOKIE, token, max_age=int(console.settings.console_session_h * 3600), httponly=True,
                        samesite="strict", secure=secure, path="/console")
    return response


@router.post("/logout")
def logout(request: Request, csrf: str = Form("")) -> Response:
    signed = _guard(request, csrf)
    if isinstance(signed, Response):
        return signed
    with parts(request).db.sessions() as session:
        sessions.sign_out(session, signed)
    response = _login_redirect()
    response.delete_cookie(COOKIE, path="/console")
    return response


@router.get("")
def overview(request: Request, page: int = 1) -> Response:
    signed = _signed(request)
    if signed is None:
        return _login_redirect(request)
    page = max(1, min(page, 100_000))
    console = parts(request)
    ranked = console.assessments(signed.user_id)
    with console.db.read_sessions() as session:
        groups = views.overview(session, signed.user_id, ranked, page)
        console.blackouts_now(groups)
        channels = views.channels(session, signed.user_id)
        hooks = views.webhooks(session, signed.user_id)
    return _page(request, "overview.html", signed, groups=groups, channels=channels, webhooks=hooks, page=page,
                 more=page * views.PAGE < len(ranked), total=len(ranked), summary=summary(ranked))


@router.get("/wall")
def wall(request: Request, dense: bool = False) -> Response:
    """Every group on one screen, worst first, from memory: the NOC wall (`dense=1`: 1,000 groups at 1080p)."""
    signed = _signed(request)
    if signed is None:
        return _login_redirect(request)
    ranked = parts(request).assessments(signed.user_id)
    return _page(request, "wall.html", signed, tiles=[_tile(a) for a in ranked], dense=dense,
                 summary=summary(ranked))


def _tile(a: Assessment) -> str:
    return templates.get_template("_tile.html").render(a=a)


@router.get("/wall/stream")
async def wall_stream(request: Request) -> Response:
    """The wall, live: each second (or at once on a change) the tiles whose facts moved, the order when it
    moved, and the summary bar. A tile is rendered only when its facts changed, so a calm fleet of 1,000
    groups costs a comparison per group a second and sends nothing but a keep-alive."""
    signed = await run_in_threadpool(_signed, request)
    if signed is None:
        return Response("sign in first", status_code=401)
    console = parts(request)

    async def events() -> Any:
        facts: dict[str, tuple[Any, ...]] = {}
        first: list[str] = []
        bar_sent = ""
        while not console.feed.closed and not await request.is_disconnected():
            ranked = console.assessments(signed.user_id)
            changed = {}
            for a in ranked:
                key = (a.severity, a.on_air, a.slate, a.name, tuple(a.problems))
                if facts.get(a.group_id) != key:
                    facts[a.group_id] = key
                    changed[a.group_id] = _tile(a)
            gone = facts.keys() - {a.group_id for a in ranked}
            for group_id in gone:
                del facts[group_id]
            # The order: only the groups with a problem, worst first; the page keeps the rest by name.
            problems = [a.group_id for a in ranked if a.severity]
            if changed or gone:
                yield f"event: tiles\ndata: {json.dumps({'tiles': changed, 'gone': sorted(gone)})}\n\n"
            if problems != first or changed:
                first = problems
                yield f"event: order\ndata: {json.dumps(problems)}\n\n"
            bar = templates.get_template("_summary.html").render(summary=summary(ranked))
            if bar != bar_sent:
                bar_sent = bar
                yield f"event: summary\ndata: {json.dumps(bar)}\n\n"
            if not changed:
                yield ": idle\n\n"
            if await console.feed.wait(1.0):
                await asyncio.sleep(0.05)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.get("/slicers/{key}/frame.jpg")
async def slicer_frame(request: Request, key: str) -> Response:
    """A standby's picture from its own playlist, for slicers that announce no thumb_url (lazy, 10 s)."""
    signed = await run_in_threadpool(_signed, request)
    if signed is None:
        return Response("sign in first", status_code=401)
    console = parts(request)
    fleet = console.registry.current
    member = fleet.members.get(key)
    group = fleet.groups.get(member.group_id) if member is not None else None
    if group is None or not (group.owner == signed.user_id or signed.user_id in group.allowed) \
            or key not in fleet.hls_urls:
        return Response("no such slicer with a playlist", status_code=404)
    image = await console.previews.frame(key, fleet.hls_urls[key])
    if image is None:
        return Response("no frame to show yet", status_code=404, headers={"Cache-Control": "no-store"})
    return Response(image, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=10"})


def _admin(request: Request) -> Signed | Response:
    signed = _signed(request)
    if signed is None:
        return _login_redirect(request)
    if signed.role != "admin":
        return _error(request, signed, FeedgateError(403, f"Your role is {signed.role}: accounts are for admins."))
    return signed


@router.get("/operators")
def operators_page(request: Request) -> Response:
    """Accounts for people (admins only): who signs in, with which role; add, disable, enable."""
    signed = _admin(request)
    if isinstance(signed, Response):
        return signed
    return _operators_page(request, signed)


def _operators_page(request: Request, signed: Signed, status: int = 200, **extra: Any) -> Response:
    with parts(request).db.read_sessions() as session:
        listed = operators.list_operators(session, signed.user_id, PageQuery(page=1, page_size=500))
    people = [o for o in listed.items if isinstance(o, OperatorShape)]
    return _page(request, "operators.html", signed, status=status, people=people, **extra)


@router.post("/operators")
def add_operator(request: Request, login: str = Form(""), name: str = Form(""), role: str = Form("operator"),
                 password: str = Form(""), totp: str = Form(""), csrf: str = Form("")) -> Response:
    signed = _guard(request, csrf, f"add operator {login[:100]} ({role[:16]})", admin=True)
    if isinstance(signed, Response):
        return signed
    try:
        data = OperatorCreate.model_validate({"login": login, "name": name, "role": role, "password": password,
                                              "totp": bool(totp)})
        with parts(request).db.sessions() as session:
            made = operators.create_operator(session, signed.user_id, data)
    except ValidationError as exc:
        first = exc.errors()[0]
        error = FeedgateError(400, f"Field '{first['loc'][0]}': {first['msg']}.")
        return _operators_page(request, signed, 400, error=error)
    except FeedgateError as error:
        return _operators_page(request, signed, error.status, error=error)
    return _operators_page(request, signed, made=made)


@router.post("/operators/{operator_id}/enabled")
def enable_operator(request: Request, operator_id: str, enabled: str = Form(""), csrf: str = Form("")) -> Response:
    signed = _guard(request, csrf, f"{'enable' if enabled == 'true' else 'disable'} operator {operator_id[:32]}",
                    admin=True)
    if isinstance(signed, Response):
        return signed
    try:
        with parts(request).db.sessions() as session:
            operators.update_operator(session, signed.user_id, operator_id,
                                      OperatorUpdate(enabled=enabled == "true"))
    except FeedgateError as error:
        return _operators_page(request, signed, error.status, error=error)
    return RedirectResponse("/console/operators", status_code=303)


@router.get("/audit")
def audit(request: Request, who: str = "", what: str = "", page: int = 1) -> Response:
    """Who changed what, newest first, with filters and the CSV of the same."""
    signed = _signed(request)
    if signed is None:
        return _login_redirect(request)
    query = PageQuery(page=max(1, min(page, 100_000)), page_size=50)
    with parts(request).db.read_sessions() as session:
        log = operators.list_audit(session, signed.user_id, query, who[:200] or None, what[:200] or None)
    entries = [e for e in log.items if isinstance(e, AuditEntryShape)]
    csv = f"/console/audit.csv?{urlencode({'who': who, 'what': what})}"
    return _page(request, "audit.html", signed, entries=entries, who=who, what=what, page=query.page,
                 more=query.page * 50 < log.total_items, csv=csv)


@router.get("/audit.csv")
def audit_csv(request: Request, who: str = "", what: str = "") -> Response:
    signed = _signed(request)
    if signed is None:
        return _login_redirect(request)
    with parts(request).db.read_sessions() as session:
        rows = list(operators.audit_csv(session, signed.user_id, who[:200] or None, what[:200] or None))
    return Response("".join(rows), media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="feedgate-audit.csv"'})


@router.get("/groups/{group_id}")
def group_page(request: Request, group_id: str, page: int = 1) -> Response:
    signed = _signed(request)
    if signed is None:
        return _login_redirect(request)
    console = parts(request)
    try:
        with console.db.read_sessions() as session:
            group = views.group_page(session, signed.user_id, group_id, max(1, min(page, 10_000)),
                                     console.assessment(group_id))
    except FeedgateError as error:
        return _error(request, signed, error)
    return _page(request, "group.html", signed, group=group)


@router.get("/groups/{group_id}/confirm")
def confirm(request: Request, group_id: str, action: str, slicer: str = "") -> Response:
    signed = _signed(request)
    if signed is None:
        return _login_redirect(request)
    if action not in ACTIONS:
        return _error(request, signed, FeedgateError(400, f"Unknown action '{action[:50]}'."))
    if not signed.can_act:
        return _error(request, signed, FeedgateError(403, f"Your role is {signed.role}: you can look, not act."))
    console = parts(request)
    try:
        with console.db.read_sessions() as session:
            group = views.group_page(session, signed.user_id, group_id, 1, console.assessment(group_id))
    except FeedgateError as error:
        return _error(request, signed, error)
    return _page(request, "confirm.html", signed, group=group, action=action, slicer=slicer,
                 question=ACTIONS[action].format(slicer=slicer),
                 consequence=views.consequence(group, action, slicer))


@router.post("/groups/{group_id}/act")
def act(request: Request, group_id: str, action: str = Form(""), slicer: str = Form(""),
        csrf: str = Form("")) -> Response:
    signed = _guard(request, csrf, f"{action[:40]} {slicer[:64]} on group {group_id[:64]}".replace("  ", " "))
    if isinstance(signed, Response):
        return signed
    try:
        with parts(request).db.sessions() as session:
            if action == "failback_off_activate":  # two steps, the first safe alone: nothing changes on air
                failover.update_group(session, signed.user_id, group_id, GroupUpdate(auto_failback=False))
                action = "activate"
            if action == "activate":
                failover.activate_slicer(session, signed.user_id, group_id, ActivateSlicer(slicer_id=slicer))
            elif action in ("slate_on", "slate_off"):
                failover.set_no_slicer(session, signed.user_id, group_id, action == "slate_on")
            elif action in ("failback_on", "failback_off"):
                failover.update_group(session, signed.user_id, group_id,
                                      GroupUpdate(auto_failback=action == "failback_on"))
            else:
                raise FeedgateError(400, f"Unknown action '{action[:50]}'.")
    except FeedgateError as error:
        with parts(request).db.read_sessions() as session:
            try:
                group = views.group_page(session, signed.user_id, group_id, 1, parts(request).assessment(group_id))
            except FeedgateError as missing:
                return _error(request, signed, missing)
        return _page(request, "group.html", signed, status=error.status, group=group, error=error)
    return RedirectResponse(f"/console/groups/{group_id}", status_code=303)


@router.get("/channels/{channel_id}")
def channel_page(request: Request, channel_id: str) -> Response:
    signed = _signed(request)
    if signed is None:
        return _login_redirect(request)
    try:
        with parts(request).db.read_sessions() as session:
            channel = views.channel_page(session, signed.user_id, channel_id)
    except FeedgateError as error:
        return _error(request, signed, error)
    return _page(request, "channel.html", signed, view=channel, viewer={}, decision=None)


@router.post("/channels/{channel_id}/program")
def set_program(request: Request, channel_id: str, blackout_id: str = Form(""), title: str = Form(""),
                csrf: str = Form("")) -> Response:
    signed = _guard(request, csrf, f"program '{blackout_id.strip()[:100]}' on channel {channel_id[:64]}")
    if isinstance(signed, Response):
        return signed
    try:
        with parts(request).db.sessions() as session:
            programs.start_program(session, signed.user_id, channel_id,
                                   ProgramStart(blackout_id=blackout_id.strip() or None, title=title))
    except FeedgateError as error:
        return _error(request, signed, error)
    return RedirectResponse(f"/console/channels/{channel_id}", status_code=303)


@router.get("/channels/{channel_id}/simulate")
def simulate(request: Request, channel_id: str, ip: str = "", country: str = "", zip: str = "",
             dma: str = "", device: str = "", at: str = "") -> Response:
    signed = _signed(request)
    if signed is None:
        return _login_redirect(request)
    viewer = {"ip": ip, "country": country, "zip": zip, "dma": dma, "device": device, "at": at}
    try:
        with parts(request).db.read_sessions() as session:
            view = views.channel_page(session, signed.user_id, channel_id)
    except FeedgateError as error:
        return _error(request, signed, error)
    query = ViewerQuery(ip=None, at=at or None, cbip=ip or None, cbcc=country or None, cbzip=zip or None,
                        cbdma=dma or None, cbdevice=device or None)
    try:
        decision: dict[str, Any] | FeedgateError = playback_decision(
            parts(request).decisions, view["channel"]["id"], signed.user_id, query, None).model_dump()
    except FeedgateError as error:
        decision = error
    return _page(request, "channel.html", signed, view=view, viewer=viewer, decision=decision)


WATCH_FIELDS = {"country": "repl.cbcc", "zip": "repl.cbzip", "dma": "repl.cbdma", "device": "repl.cbdevice",
                "ip": "repl.cbip"}


@router.get("/channels/{channel_id}/watch")
def watch(request: Request, channel_id: str, country: str = "", zip: str = "", dma: str = "", device: str = "",
          ip: str = "") -> Response:
    """The channel as a viewer sees it (hls.js on /channel/{id}.m3u8), with what is on air beside it."""
    signed = _signed(request)
    if signed is None:
        return _login_redirect(request)
    console = parts(request)
    try:
        with console.db.read_sessions() as session:
            view = views.channel_page(session, signed.user_id, channel_id)
    except FeedgateError as error:
        return _error(request, signed, error)
    viewer = {"country": country, "zip": zip, "dma": dma, "device": device, "ip": ip}
    extras = {WATCH_FIELDS[name]: value.strip()[:64] for name, value in viewer.items() if value.strip()}
    api_key = console.api_key(signed.user_id)
    query = token_query(signed.user_id, api_key or "", view["channel"]["id"], ttl_s=WATCH_TOKEN_S, extras=extras)
    return _page(request, "watch.html", signed, view=view, viewer=viewer, query=query,
                 playlist=f"/channel/{quote(view['channel']['id'], safe='')}.m3u8?{query}")


@router.get("/channels/{channel_id}/watch/now")
async def watching_now(request: Request, channel_id: str, t: str = "") -> Response:
    """What the watch page shows beside the picture: the source on air for this viewer and the decision."""
    signed = await run_in_threadpool(_signed, request)
    if signed is None:
        return Response("sign in first", status_code=401)
    console = parts(request)
    try:
        owner, params = await token_owner(console.signatures, t.encode("latin-1"), channel_id)
        if owner != signed.user_id:
            raise FeedgateError(403, "This playback token is another user's.")
        watching = console.stream.watching(channel_id, owner, params, None)
        decision = playback_decision(console.decisions, channel_id, owner, token_viewer(params), None)
    except FeedgateError as error:
        return Response(json.dumps(error.body()), status_code=error.status, media_type="application/json")
    source = console.stream.now_playing(watching)
    body = {"source": source, "active_slicer": watching.plan.source, "decision": decision.model_dump(),
            "why_slate": _why_slate(source["label"] == "slate", watching.plan.source, decision.model_dump())}
    return Response(json.dumps(body), media_type="application/json", headers={"Cache-Control": "no-store"})


def _ranked(console: ConsoleParts, signed: Signed, group: str) -> list[Assessment]:
    if group:
        found = console.assessment(group)
        return [found] if found is not None else []
    return console.assessments(signed.user_id)


def _render_live(console: ConsoleParts, signed: Signed, group: str, page: int) -> tuple[dict[str, str], str]:
    """The live page's cards by key (one for a group page) and, on the overview, the summary bar."""
    ranked = _ranked(console, signed, group)
    with console.db.read_sessions() as session:
        if group:
            g = views.group_page(session, signed.user_id, group, 1, ranked[0] if ranked else None)
            return {group: templates.get_template("_group.html").render(g=g, signed=signed)}, ""
        cards = views.overview(session, signed.user_id, ranked, page)
    console.blackouts_now(cards)
    card = templates.get_template("_card.html")
    bar = templates.get_template("_summary.html").render(summary=summary(ranked))
    return {g["id"]: card.render(g=g, signed=signed) for g in cards}, bar


def _ages(console: ConsoleParts, keys: set[str]) -> dict[str, int | None]:
    """The ages worth showing of these slicers (-1: never heard), None for one within half its timeout: the
    groups on the page only, each second (not the user's whole fleet)."""
    members = console.registry.current.members
    groups = {m.group_id for key in keys if (m := members.get(key)) is not None}
    return {f.key: (round(f.age_s) if f.age_s is not None else -1) if f.stale else None
            for a in console.assessments_of(groups) for f in a.slicers if f.key in keys}


def _why_slate(slate: bool, active: str | None, decision: dict[str, Any]) -> str:
    """Why this viewer gets slate, in words (the watch page), or ""."""
    if not slate:
        return ""
    content = decision.get("content") or {}
    if decision.get("blacked_out") and content.get("type") == "asset":
        return (f"blackout {decision.get('blackout_id')}: its alternate, asset {content.get('id')}, cannot be "
                "played here (FEEDGATE_ASSET_URL is not set, or the asset has no playlist)")
    if decision.get("blacked_out") and content.get("type") != "slate":
        return (f"blackout {decision.get('blackout_id')}: its alternate, {content.get('type')} "
                f"{content.get('id')}, has no stream to play")
    if decision.get("blacked_out"):
        return f"blackout {decision.get('blackout_id')}: this viewer's rule shows slate"
    if active == "no_slicer":
        return "the group is on slate (an operator's choice)"
    if not active:
        return "nothing is on air for this channel (no failover group, or no healthy slicer)"
    return f"{active} announces no HLS URL"


@router.get("/stream")
async def stream(request: Request, group: str = "", page: int = 1) -> Response:
    """Server-sent events for this session. `cards`: when the engine or a committed change says something
    moved, the cards on the page are rendered again and only those that changed are sent. `summary`: the
    summary bar, when it changed. `ages`: once a second, from memory, the heartbeat ages worth showing (past
    half a group's timeout) of the slicers on the page, and `null` for one that beats again: bytes in
    proportion to the silent slicers, not to the fleet."""
    signed = await run_in_threadpool(_signed, request)
    if signed is None:
        return Response("sign in first", status_code=401)
    console = parts(request)
    page = max(1, min(page, 100_000))

    async def events() -> Any:
        sent: dict[str, str] = {}
        shown: dict[str, int | None] = {}
        bar_sent = ""
        keys: set[str] = set()
        woken, last_render = True, 0.0
        loop = asyncio.get_running_loop()
        while not console.feed.closed and not await request.is_disconnected():
            if woken or loop.time() - last_render >= 30:
                try:
                    cards, bar = await run_in_threadpool(_render_live, console, signed, group, page)
                except FeedgateError:
                    return
                last_render = loop.time()
                changed = {key: html for key, html in cards.items() if sent.get(key) != html}
                if changed:
                    sent.update(changed)
                    yield f"event: cards\ndata: {json.dumps(changed)}\n\n"
                if bar and bar != bar_sent:
                    bar_sent = bar
                    yield f"event: summary\ndata: {json.dumps(bar)}\n\n"
                keys = set(AGE_KEY.findall("".join(cards.values())))
                shown = {}  # the cards carry their ages as rendered: send what moved from there
            now = _ages(console, keys)
            moved = {key: age for key, age in now.items() if shown.get(key) != age}
            if moved:
                shown.update(moved)
                yield f"event: ages\ndata: {json.dumps(moved)}\n\n"
            else:
                yield ": idle\n\n"  # keeps proxies from closing a quiet stream
            woken = await console.feed.wait(1.0)
            if woken:
                await asyncio.sleep(0.05)  # one render for a burst of changes

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
