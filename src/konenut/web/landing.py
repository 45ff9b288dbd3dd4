"""The landing page's parts that depend on the site: its name, and in demo mode a link per role."""

from __future__ import annotations

import threading
from html import escape

from konenut.app.identity import enrollment_link, hash_code
from konenut.demo.seed import RoleLink, role_links
from konenut.domain.ids import format_time
from konenut.domain.roles import SubjectKind
from konenut.domain.state import SiteState
from konenut.i18n import catalogue
from konenut.store.eventstore import EventStore

NAMED_SUBJECTS = frozenset({SubjectKind.PERSON, SubjectKind.HOUSEHOLD})  # the others are new


def site_name(state: SiteState, lang: str) -> str:
    """The site's name in `lang` when it has one, else its name, else the app's."""
    site = state.site or {}
    names = site.get("names") or {}
    return str(names.get(lang) or site.get("name") or catalogue(lang)["app.name"])


class DemoLinks:
    """The demo's role links (the kind `make run` prints), kept while they work: once one has
    enrolled a device — each enrols one — or has expired, a fresh set replaces them all."""

    def __init__(self) -> None:
        self._links: list[RoleLink] = []
        self._lock = threading.Lock()  # two first visitors must not both issue a set

    def current(self, store: EventStore, site_id: str) -> list[RoleLink]:
        with self._lock:
            state, now = store.state(site_id), format_time(store.clock())
            if not self._links or not all(_usable(state, link, now) for link in self._links):
                self._links = role_links(store, site_id, base_url="")
            return list(self._links)


def _usable(state: SiteState, link: RoleLink, now: str) -> bool:
    code = state.code_by_hash(hash_code(state.code_key, link.code))
    return code is not None and code.used_by_token is None and code.expires_at > now


def demo_html(state: SiteState, links: list[RoleLink], lang: str) -> str:
    """The demo section: a button per role, with whom it enrols, in the page's language."""
    messages = catalogue(lang)
    items = []
    for link in links:
        code = state.code_by_hash(hash_code(state.code_key, link.code))
        named = code is not None and code.subject_kind in NAMED_SUBJECTS
        who = link.who if named else messages["landing.demo_new"]
        items.append(
            f'<li><a class="button" data-role="{link.role.value}" '
            f'href="{escape(enrollment_link("", link.code, lang))}">'
            f"<b>{escape(messages[f'role.{link.role.value}'])}</b>"
            f'<span class="who" dir="auto">{escape(who)}</span></a></li>'
        )
    return (
        '<section class="demo" id="demo" aria-labelledby="demo-h">'
        f'<h2 id="demo-h">{escape(messages["landing.demo_title"])}</h2>'
        f'<p class="muted">{escape(messages["landing.demo_help"])}</p>'
        f"<ul>{''.join(items)}</ul></section>"
    )
