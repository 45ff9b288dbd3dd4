"""Broadcasts to residents, in each household's languages."""

from __future__ import annotations

from datetime import datetime

from konenut.app import commands as c
from konenut.app.decisions import Decide
from konenut.app.handlers.events import new_event
from konenut.app.handlers.incidents import in_open_incident
from konenut.app.identity import Actor
from konenut.domain import broadcasts
from konenut.domain.errors import NotFound
from konenut.domain.events import NewEvent
from konenut.domain.ids import new_id
from konenut.domain.state import IncidentView, SiteState
from konenut.i18n import INSTRUCTION_PREFIX, catalogue, instructions


def send_broadcast(actor: Actor, incident_id: str, cmd: c.SendBroadcast) -> Decide:
    broadcast_id = new_id()

    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        unknown = [h for h in cmd.household_ids if h not in state.households]
        if unknown:
            raise NotFound(f"no household(s) {', '.join(unknown[:5])}")
        payload = {
            "broadcast_id": broadcast_id,
            **cmd.model_dump(
                exclude={"occurred_at", "location", "area", "group"}, exclude_none=True
            ),
            **broadcasts.audience_fields(state, cmd.area, cmd.group, cmd.household_ids),
        }
        key = c.template_key(cmd.template) if cmd.template else None
        if key is not None:
            payload["template"] = key.removeprefix(INSTRUCTION_PREFIX)
            if cmd.texts is None:
                payload["texts"] = instructions()[key]
                if key == SAFE_WORD_TEMPLATE and incident.safe_word:
                    payload["texts"] = _with_safe_word(payload["texts"], incident.safe_word)
                    payload["carries_safe_word"] = True  # households only: never guests
        if cmd.texts is not None and key is None:
            payload["translated"] = sorted(cmd.texts)  # custom words: only these were written
        return [
            new_event("broadcast.sent", payload, actor=actor, cmd=cmd, now=now, incident=incident)
        ]

    return in_open_incident(incident_id, inner, {"broadcast_id": broadcast_id})


SAFE_WORD_TEMPLATE = INSTRUCTION_PREFIX + "safe_word"


def _with_safe_word(texts: dict[str, str], word: str) -> dict[str, str]:
    """The safe-word instruction with the word itself first, in each language (an SMS cut to
    one segment loses the end of the instruction, never the word)."""
    says = {lang: catalogue(lang)["resident.safe_word"].format(word=word) for lang in texts}
    return {lang: f"{says[lang]}. {text}" for lang, text in texts.items()}
