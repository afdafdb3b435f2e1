"""The public pages of consent links: ``GET /consent/{token}`` shows a small confirmation
page, ``POST /consent/{token}`` records the answer. No sign-in.

* A GET decides nothing (mail scanners open links): it shows the recipient's own request —
  its subject and text, nothing else of the CRM — and a form.
* The POST must carry the page's form token (``links.Claim.form_token``), so a form forged
  elsewhere cannot answer for the recipient; the answer is ``accept``, ``deny`` or
  ``withdraw``.
* A link that is forged, of another organisation's switched-off module, or of a request
  that no longer exists answers 404; a used or expired link 410. The pages never say more.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qs

import anyio.to_thread
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.sdk import Gateway, enabled_modules, utcnow
from plugins.consent import expiry, links
from plugins.consent.answers import Visit, answer, withdraw
from plugins.consent.models import ConsentRequest, RequestStatus

MAX_BODY = 4096
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
STYLE = (
    "body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em}"
    "button{padding:.6em 1.2em;margin:.3em;font-size:1em}"
)


def _page(status: int, title: str, content: str) -> Response:
    doc = (
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{content}</body></html>"
    )
    return HTMLResponse(doc, status_code=status, headers=HEADERS)


def _invalid() -> Response:
    return _page(404, "Link not valid", "<p>This link is not valid.</p>")


def _gone() -> Response:
    return _page(
        410,
        "Link no longer valid",
        "<p>This link has already been used or has expired.</p>",
    )


def _find(gateway: Gateway, claim: links.Claim) -> ConsentRequest | None:
    """The request a link names if the link is authentic and consent is on for its
    organisation (system session: the link is the only credential)."""
    with gateway.db.reading() as session:
        found = session.scalar(select(ConsentRequest).where(ConsentRequest.id == claim.request_id))
        if found is None or not claim.authentic(gateway, found.nonce):
            return None
        if "consent" not in enabled_modules(session, gateway.registry, found.tenant_id):
            return None
        session.expunge(found)
        return found


def _usable(claim: links.Claim, request: ConsentRequest) -> bool:
    now = utcnow()
    if claim.expired(now):
        return False
    if claim.kind == links.ANSWER:
        return request.shown_status(now) is RequestStatus.SENT
    return request.status is RequestStatus.ACCEPTED


def _show(
    gateway: Gateway, text: str, claim: links.Claim, request: ConsentRequest, preset: str
) -> Response:
    form = html.escape(claim.form_token(gateway))
    intro = (
        f"<p><strong>{html.escape(request.subject)}</strong></p>"
        f"<p>{html.escape(request.body).replace(chr(10), '<br>')}</p>"
    )
    if claim.kind == links.WITHDRAW:
        buttons = '<button name="answer" value="withdraw">Withdraw my consent</button>'
        title = "Withdraw your consent"
    else:
        order = ["accept", "deny"] if preset != "deny" else ["deny", "accept"]
        label = {"accept": "I accept", "deny": "I decline"}
        buttons = "".join(
            f'<button name="answer" value="{choice}"{" autofocus" if i == 0 else ""}>'
            f"{label[choice]}</button>"
            for i, choice in enumerate(order)
        )
        title = "Your consent"
    action = html.escape(f"{links.ROUTE}/{text}")
    content = (
        f'{intro}<form method="post" action="{action}">'
        f'<input type="hidden" name="form" value="{form}">{buttons}</form>'
    )
    return _page(200, title, content)


def _record(gateway: Gateway, claim: links.Claim, choice: str, visit: Visit) -> str:
    """Apply the answer in one transaction; the outcome's name."""
    now = utcnow()
    with gateway.db.transaction() as session:
        request = session.scalar(
            select(ConsentRequest).where(ConsentRequest.id == claim.request_id)
        )
        if request is None or not claim.authentic(gateway, request.nonce):
            return "invalid"
        if claim.expired(now):
            return "gone"
        if claim.kind == links.WITHDRAW:
            return "withdrawn" if withdraw(session, request, visit, now) else "gone"
        if request.shown_status(now) is RequestStatus.EXPIRED:
            expiry.expire(session, now, ConsentRequest.id == request.id)
            return "gone"
        if answer(session, request, choice == "accept", visit, now):
            return "accepted" if choice == "accept" else "denied"
        return "gone"


DONE = {
    "accepted": ("Thank you", "<p>Your consent is recorded.</p>"),
    "denied": ("Thank you", "<p>Your refusal is recorded. You will not receive our emails.</p>"),
    "withdrawn": (
        "Consent withdrawn",
        "<p>Your consent is withdrawn. You will not receive our emails.</p>",
    ),
}


async def consent_page(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    text = request.path_params["token"]
    claim = links.Claim.parse(text)
    if claim is None:
        return _invalid()
    found = await anyio.to_thread.run_sync(_find, gateway, claim)
    if found is None:
        return _invalid()
    if request.method == "GET":
        if not _usable(claim, found):
            return _gone()
        return _show(gateway, text, claim, found, request.query_params.get("answer", ""))
    body = await request.body()
    if len(body) > MAX_BODY:
        return _page(413, "Too large", "<p>The form is too large.</p>")
    try:
        fields = parse_qs(body.decode("utf-8"), max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return _page(400, "Not understood", "<p>The form could not be read.</p>")
    choice = (fields.get("answer") or [""])[0]
    expected = ("withdraw",) if claim.kind == links.WITHDRAW else ("accept", "deny")
    if choice not in expected or not claim.form_ok(gateway, (fields.get("form") or [""])[0]):
        return _page(400, "Not understood", "<p>Please use the buttons of the page.</p>")
    visit = Visit(
        ip_address=request.client.host if request.client else "",
        user_agent=request.headers.get("user-agent", ""),
    )
    outcome = await anyio.to_thread.run_sync(_record, gateway, claim, choice, visit)
    if outcome == "invalid":
        return _invalid()
    if outcome == "gone":
        return _gone()
    title, content = DONE[outcome]
    return _page(200, title, content)


ROUTES: list[BaseRoute] = [Route(links.ROUTE + "/{token}", consent_page, methods=["GET", "POST"])]
