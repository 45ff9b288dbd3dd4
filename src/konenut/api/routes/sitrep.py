"""The SITREP: the incident's situation as of now, as a printable page, a PDF, a map image and
a short text, and sent as that text to a channel's target (every one audited)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from pydantic import Field, StringConstraints

from konenut.api.deps import Access, command_response, idempotency_key, incident_for, permit
from konenut.api.offload import off_the_loop
from konenut.app.channels import DeliveryResult, OutboundMessage, Recipient
from konenut.app.commands import Body
from konenut.app.handlers.sitrep import record_produced, record_sent, send_requested
from konenut.app.routing import NOT_CONFIGURED, PUSH, Route, Target, Unreachable
from konenut.app.sitrep import Sitrep, gather, headline, short_text
from konenut.domain.event_types import Id
from konenut.i18n import LANGUAGES
from konenut.notify.router import Router
from konenut.store.eventstore import IdempotencyKey

router = APIRouter(prefix="/api/v1/incidents", tags=["sitrep"])

ReportLang = Literal["he", "ar", "en", "th", "ne"]  # the five catalogues (konenut/i18n)
DEFAULT_LANGUAGE = "he"


class SendSitrep(Body):
    channel: Annotated[str, StringConstraints(min_length=1, max_length=40)] = Field(
        description="A configured outbound channel (sms, telegram, signal, whatsapp, email, "
        "voice): its Apprise URL, filled with the person's address on it"
    )
    person_id: Id | None = Field(
        default=None,
        description="Who receives it (a commander, operator or admin of the site); none: the "
        "channel's own fixed target (an Apprise URL without placeholders)",
    )
    lang: ReportLang | None = Field(
        default=None, description="The text's language; default: the person's, else Hebrew"
    )


async def _produced(access: Access, incident_id: str, fmt: str, lang: str) -> Sitrep:
    """The SITREP as of now, once its production is on the audit trail."""
    incident = incident_for(access, incident_id)
    await access.runtime.run(
        access.actor.site_id, record_produced(access.actor, incident_id, fmt, lang), None
    )
    # A town's households are ranked for the counts: a CPU worker's job, as the drawing is.
    return await off_the_loop(gather, access.state, incident, access.runtime.store.clock())


# The renderers are imported on first use: matplotlib alone would add seconds of CPU to every
# server's start (docs/operations.md), for a report asked for a few times a day.
def _map(sitrep: Sitrep) -> bytes:
    from konenut.reports.sitrep_map import render_map

    return render_map(sitrep)


def _page(sitrep: Sitrep, lang: str) -> str:
    from konenut.reports.sitrep_page import render_html

    return render_html(sitrep, lang, _map(sitrep))


def _pdf(sitrep: Sitrep, lang: str) -> bytes:
    from konenut.reports.sitrep_pdf import render_pdf

    return render_pdf(sitrep, lang, _map(sitrep))


@router.get(
    "/{incident_id}/sitrep.txt", operation_id="get_sitrep_text", response_class=PlainTextResponse
)
async def get_sitrep_text(
    incident_id: str, lang: ReportLang = "he", access: Access = Depends(permit("get_sitrep_text"))
) -> PlainTextResponse:
    """The short text (at most 1,000 characters) for an SMS or the radio (audited)."""
    sitrep = await _produced(access, incident_id, "text", lang)
    return PlainTextResponse(short_text(sitrep, lang))


@router.get(
    "/{incident_id}/sitrep.html", operation_id="get_sitrep_page", response_class=HTMLResponse
)
async def get_sitrep_page(
    incident_id: str, lang: ReportLang = "he", access: Access = Depends(permit("get_sitrep_page"))
) -> HTMLResponse:
    """One printable page, self-contained (the map inside it), in the language's direction
    (audited)."""
    sitrep = await _produced(access, incident_id, "html", lang)
    return HTMLResponse(await off_the_loop(_page, sitrep, lang))


@router.get(
    "/{incident_id}/sitrep.pdf",
    operation_id="get_sitrep_pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def get_sitrep_pdf(
    incident_id: str, lang: ReportLang = "he", access: Access = Depends(permit("get_sitrep_pdf"))
) -> Response:
    """The same as one A4 PDF page (audited)."""
    sitrep = await _produced(access, incident_id, "pdf", lang)
    body = await off_the_loop(_pdf, sitrep, lang)
    name = f"sitrep-{sitrep.incident_ref}.pdf"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type="application/pdf", headers=headers)


@router.get(
    "/{incident_id}/sitrep.png",
    operation_id="get_sitrep_map",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
async def get_sitrep_map(
    incident_id: str, access: Access = Depends(permit("get_sitrep_map"))
) -> Response:
    """The SITREP's map: the site plan with the squad, the threats and the buildings that need
    help, drawn on the server (audited)."""
    sitrep = await _produced(access, incident_id, "png", "en")
    return Response(await off_the_loop(_map, sitrep), media_type="image/png")


@router.post("/{incident_id}/sitrep/send", operation_id="send_sitrep", status_code=201)
async def send_sitrep(
    incident_id: str,
    body: SendSitrep,
    idem: IdempotencyKey = Depends(idempotency_key),
    access: Access = Depends(permit("send_sitrep")),
) -> JSONResponse:
    """Send the short text through a configured channel (Apprise) to a person allowed to
    receive it, or to the channel's fixed target. The request is recorded under its
    Idempotency-Key before anything is sent: a retry is answered with that record and sends
    nothing again. The outcome is `audit.sitrep_sent`, and the answer's `sent` and `detail`."""
    incident = incident_for(access, incident_id)
    channels = Router.from_settings(access.runtime.settings, None)
    lang = _language(access, body)
    outcome = await access.execute(
        send_requested(access.actor, incident_id, body.person_id, lang), idem
    )
    if outcome.replayed:
        return command_response(outcome)
    now = access.runtime.store.clock()
    sitrep = await off_the_loop(gather, access.state, incident, now)
    result, to = await _send(channels, access, body, sitrep, lang)
    await access.runtime.run(
        access.actor.site_id,
        record_sent(access.actor, incident_id, body.channel, to, lang, result.sent, result.detail),
        None,
    )
    answer = {"sent": result.sent, "detail": result.detail, "to": to}
    return JSONResponse({**outcome.body, **answer}, status_code=outcome.status)


def _language(access: Access, body: SendSitrep) -> str:
    """The body's language, else the receiving person's first one we write, else Hebrew."""
    if body.lang is not None:
        return body.lang
    person = access.state.persons.get(body.person_id or "")
    spoken = [lang for lang in (person.languages if person else []) if lang in LANGUAGES]
    return spoken[0] if spoken else DEFAULT_LANGUAGE


async def _send(
    channels: Router, access: Access, body: SendSitrep, sitrep: Sitrep, lang: str
) -> tuple[DeliveryResult, str]:
    """Send the short text to the person's address on the channel, or to the channel's own
    fixed target: (the provider's answer, the target masked)."""
    found = _route(channels, access, body, sitrep.drill)
    if isinstance(found, Unreachable):
        return DeliveryResult(sent=False, detail=found.reason, channel=body.channel), "-"
    channel, recipient, to = found.channel, found.targets[0].recipient, found.to
    message = OutboundMessage(
        channel=body.channel,
        recipient=recipient,
        title=headline(lang, sitrep),
        body=short_text(sitrep, lang),
        lang=lang,
        ack_url="",
        tag=f"sitrep-{sitrep.incident_id}",
    )
    return await channel.send(message), to


def _route(channels: Router, access: Access, body: SendSitrep, drill: bool) -> Route | Unreachable:
    """The person's address on the channel (a drill keeps their quiet hours), or the
    channel's own fixed target."""
    if body.person_id is not None:
        now = access.runtime.store.clock()
        return channels.route(access.state, body.person_id, body.channel, drill=drill, now=now)
    channel = channels.channels.get(body.channel)
    if channel is None or body.channel == PUSH:
        return Unreachable(NOT_CONFIGURED.get(body.channel, f"no {body.channel} channel"))
    return Route(channel, (Target(Recipient()),), body.channel)
