"""The `konenut` command: init, serve, enroll, hooks, tls, site, user, device, incident, log,
households, cards, docs."""

from __future__ import annotations

import json
import os
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from itertools import takewhile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn
from urllib.parse import urlsplit

import typer
from pydantic import TypeAdapter, ValidationError

from konenut import bootstrap
from konenut.app import commands as c
from konenut.app import handlers
from konenut.app.identity import enrollment_link, links_url, new_code
from konenut.config import Settings
from konenut.domain.errors import DomainError
from konenut.domain.event_types import PublicUrl
from konenut.domain.ids import utcnow
from konenut.domain.roles import Role, SubjectKind
from konenut.domain.state import IncidentView, SiteState
from konenut.logs import configure_logging
from konenut.store.eventstore import Decide, EventStore, Outcome

if TYPE_CHECKING:
    from konenut.app.exports import ExportKind

app = typer.Typer(
    help="Konenut: coordination for a community's own emergency-response squad.",
    no_args_is_help=True,
    add_completion=False,
)
tls_app = typer.Typer(help="Certificates for HTTPS on the local network.", no_args_is_help=True)
site_app = typer.Typer(help="The site's configuration.", no_args_is_help=True)
user_app = typer.Typer(help="People and their devices.", no_args_is_help=True)
device_app = typer.Typer(help="Enrolled devices.", no_args_is_help=True)
incident_app = typer.Typer(help="Incidents and drills.", no_args_is_help=True)
log_app = typer.Typer(help="The event log.", no_args_is_help=True)
for sub, name in (
    (tls_app, "tls"),
    (site_app, "site"),
    (user_app, "user"),
    (device_app, "device"),
    (incident_app, "incident"),
    (log_app, "log"),
):
    app.add_typer(sub, name=name)
households_app = typer.Typer(
    help="The household registry as a CSV or XLSX sheet.", no_args_is_help=True
)
app.add_typer(households_app, name="households")
cards_app = typer.Typer(
    help="Printable household cards (their links and QR codes).", no_args_is_help=True
)
app.add_typer(cards_app, name="cards")

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", "-d", help="Data folder (default: $KONENUT_DATA_DIR or ./konenut-data)"
    ),
]

DEFAULT_PORTS = {"http": 80, "https": 443}

SITE_TOML_TEMPLATE = """\
# Konenut site file. `konenut site apply` turns what changed here into events in the log;
# after that the log is the truth (the server does not re-read this file on start).
[site]
name = "{name}"
default_language = "he"       # he, ar, en, th or ne
# public_url = "https://konenut.lan:8443"  # the address phones open (`konenut init --public-url`)
timezone = "Asia/Jerusalem"
# country_code = "972"        # dialling code: a phone typed 05X... is a number of this country
# plan = "site_plan.geojson"  # GeoJSON site plan, relative to this file

[site.names]
# he = "..."
# ar = "..."

# How a muster call reaches each person until they answer: (channel, seconds after the call).
# Channels: push, sms, telegram, signal, whatsapp, email, voice, deputy. Providers' URLs and
# keys come from the environment (KONENUT_NOTIFY_*), never from this file.
# [escalation]
# steps = [
#   {{ channel = "push", after_secs = 0 }},
#   {{ channel = "sms", after_secs = 30 }},
#   {{ channel = "telegram", after_secs = 30 }},
#   {{ channel = "voice", after_secs = 90 }},
#   {{ channel = "deputy", after_secs = 120 }},
# ]

# The site's own muster calls, beside the built-in hostile_infiltration, fire, missing_person.
# [[muster_templates]]
# id = "flood"
# kind = "flood"
# rally_point_ref = "R1"
# texts = {{ he = "...", en = "Flood: bring the pump to gate 2" }}

# Keys, radios and lockers, and who holds each (docs/muster.md, "Keys and equipment").
# [[assets]]
# ref = "key-gate-1"
# kind = "gate_key"          # gate_key, armory_key, radio, weapons_locker, vehicle, medical_kit
# name = "Gate 1 key"
# opens_ref = "1"
# holder = "r-3"             # a person's ref; they may be added later (`user add --ref r-3`)

# What one guest poster may bring in during an incident (docs/residents.md, guest posters).
# [guests]
# max_devices_per_poster = 30           # phones checked in by one poster
# max_people_per_guest = 20             # people per check-in
# redemptions_per_address_per_min = 10  # a shelter's Wi-Fi puts many phones on one address
# redemptions_per_poster_per_min = 20
"""


def fail(message: str, code: int = 1) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def settings_for(data_dir: Path | None, **overrides: Any) -> Settings:
    settings = Settings()
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    return settings.model_copy(update=overrides)


@contextmanager
def opened_store(
    settings: Settings, *, create: bool = False, start: bool = True
) -> Iterator[EventStore]:
    """The store of the data dir, migrated to head; refuses a missing data dir unless `create`.

    With `start=False` the caller (the server) loads the projections itself, in the background.
    """
    if settings.database_url is None:
        if not create and not settings.data_dir.exists():
            fail(f"no data folder at {settings.data_dir}; run `konenut init` first")
        settings.ensure_data_dir()
    url = settings.resolved_database_url
    try:
        store = bootstrap.open_store(url, code_key=settings.resolved_code_key(), start=start)
    except Exception as exc:  # a wrong URL or an unreachable server: say which
        fail(f"cannot open the database {url}: {exc}")
    try:
        yield store
    finally:
        store.close()


def run(store: EventStore, settings: Settings, decide: Decide) -> Outcome:
    try:
        return store.execute(settings.site_id, decide)
    except DomainError as exc:
        fail(exc.detail)


def site_links_url(store: EventStore, settings: Settings) -> str:
    """The base of the links this command prints: the site's public URL, else the default."""
    return links_url(store.state(settings.site_id).site, settings.base_url())


def print_code(
    store: EventStore, settings: Settings, code: str, who: str, lang: str = "he", png: bool = True
) -> None:
    from konenut.security.qr import format_code, qr_png, qr_terminal

    base_url = site_links_url(store, settings)
    link = enrollment_link(base_url, code, lang)
    typer.echo(f"Enrollment code for {who}: {format_code(code)} (valid 24 h, one device)")
    typer.echo(f"Link: {link}")
    if base_url == settings.serve_url():
        typer.echo(
            f"(No public URL is set: links point to {base_url}, where `konenut serve` listens "
            "by default. For phones, set the address they open: "
            "`konenut init --public-url https://HOST:PORT`.)"
        )
    if png:
        path = settings.data_dir / "qr" / f"enroll-{code}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        qr_png(link, path)
        typer.echo(f"QR code: {path}")
    typer.echo(qr_terminal(link))


# --- init / serve -------------------------------------------------------------------------------
@app.command()
def init(
    data_dir: DataDir = None,
    site_name: Annotated[str, typer.Option(help="Your community's name")] = "My community",
    admin_name: Annotated[str, typer.Option(help="The first admin's name")] = "Admin",
    admin_phone: Annotated[
        str | None, typer.Option(help="The admin's phone: +972..., or as dialled locally (05X...)")
    ] = None,
    public_url: Annotated[
        str | None,
        typer.Option(help="The address phones open, e.g. https://konenut.lan:8443 (every link)"),
    ] = None,
) -> None:
    """Create the data folder, site file and database, and the first admin's enrollment code.

    Run again on an existing folder: keeps the site and its admin, sets --public-url if given,
    and prints a fresh code for the admin.
    """
    if public_url is not None:
        public_url = _checked_public_url(public_url)
    settings = settings_for(data_dir)
    settings.ensure_data_dir()
    if not settings.site_toml.exists():
        settings.site_toml.write_text(SITE_TOML_TEMPLATE.format(name=site_name.replace('"', "'")))
        typer.echo(f"Wrote {settings.site_toml}")
    with opened_store(settings, create=True) as store:
        _apply_site_file(store, settings, settings.site_toml)
        if public_url is not None:
            _set_public_url(store, settings, public_url)
        state = store.state(settings.site_id)
        admin = next((p for p in state.persons.values() if Role.ADMIN.value in p.roles), None)
        if admin is None:
            added = run(
                store,
                settings,
                handlers.add_person(
                    None,
                    c.AddPerson(
                        ref="admin", name=admin_name, roles=[Role.ADMIN], phone=admin_phone
                    ),
                ),
            )
            admin_id = str(added.body["person_id"])
        else:
            admin_id = admin.person_id
        code = new_code()
        run(
            store,
            settings,
            handlers.issue_enrollment_code(
                None, c.IssueEnrollmentCode(subject_id=admin_id, roles=[Role.ADMIN]), code
            ),
        )
        typer.echo(f"Database: {settings.resolved_database_url}")
        print_code(store, settings, code, "the first admin")
        typer.echo("Next: `konenut serve`, then open the link on the admin's device.")


def _checked_public_url(url: str) -> str:
    try:
        return str(TypeAdapter(PublicUrl).validate_python(url)).rstrip("/")
    except ValidationError:
        fail(f"--public-url {url!r}: give the scheme, host and port only: https://konenut.lan:8443")


def _set_public_url(store: EventStore, settings: Settings, url: str) -> None:
    """The site's public URL, kept with its other settings (a site.configured event)."""
    name = (store.state(settings.site_id).site or {}).get("name", "Konenut site")
    run(store, settings, handlers.configure_site(None, c.ConfigureSite(name=name, public_url=url)))


@app.command()
def serve(
    data_dir: DataDir = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on (0.0.0.0 for the LAN)")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    demo: Annotated[bool, typer.Option(help="Serve the demo village with a link per role")] = False,
    tls: Annotated[
        bool, typer.Option(help="HTTPS with the site certificate (`konenut tls init`)")
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=32,
            help="HTTP processes (one also writes; more use more cores: docs/architecture.md)",
        ),
    ] = 1,
) -> None:
    """Serve the API and the web pages."""
    from konenut import processes
    from konenut.api.routes.stream import MAX_CLIENT_MESSAGE_BYTES

    settings = settings_for(data_dir, host=host, port=port, demo=demo, tls=tls, workers=workers)
    cert_file: str | None = None
    key_file: str | None = None
    if tls:
        from konenut.security.tls import TlsError, load_tls_paths

        try:
            paths = load_tls_paths(settings.data_dir)
        except TlsError as exc:
            fail(str(exc))
        cert_file, key_file = str(paths.server_cert), str(paths.server_key)
    with opened_store(settings, create=demo, start=demo) as store:
        if demo:
            _prepare_demo(store, settings)
        served = settings.serve_url()
        typer.echo(f"Serving on {served}  (API docs: {served}/api/v1/docs)")
        _warn_if_links_point_elsewhere(store, settings)
        # No per-message deflate on the stream: it costs ~35 KiB per connection (57 vs 22 KiB
        # idle), and at 5,000 phones memory matters more than the bytes (bench/RESULTS.md).
        server_options = dict(
            log_level="warning",
            ws_per_message_deflate=False,
            ws_max_size=MAX_CLIENT_MESSAGE_BYTES,
            # X-Forwarded-For only from the proxies the settings name (uvicorn believes it from
            # 127.0.0.1 by default: anyone on this machine or behind any local relay could then
            # pick the address the code throttles count them by).
            proxy_headers=bool(settings.trusted_proxies),
            forwarded_allow_ips=settings.trusted_proxies or None,
            ssl_certfile=cert_file,
            ssl_keyfile=key_file,
        )
        processes.serve(settings, store, server_options, workers)


def _warn_if_links_point_elsewhere(store: EventStore, settings: Settings) -> None:
    """Links and QR codes that would not reach this server (wrong host, port or scheme), or
    that point to this machine itself while phones are meant to connect over the LAN."""
    configured = store.latest_configuration(settings.site_id, "site.configured")
    links = urlsplit(links_url(configured.payload if configured else None, settings.base_url()))
    served = urlsplit(settings.serve_url())
    every_interface = settings.host in ("0.0.0.0", "::")
    if every_interface:
        elsewhere = links.hostname in ("127.0.0.1", "localhost")
    else:
        elsewhere = links.hostname != served.hostname
    elsewhere |= (links.scheme, links.port or DEFAULT_PORTS.get(links.scheme)) != (
        served.scheme,
        served.port,
    )
    if elsewhere:
        listening = f"{settings.host}:{settings.port}" if every_interface else served.netloc
        typer.secho(
            f"warning: links and QR codes point to {links.geturl()}, but this server listens "
            f"on {served.scheme}://{listening}; phones will not reach it there unless a reverse "
            "proxy forwards that address. Set the address phones open with "
            "`konenut init --public-url URL`.",
            fg=typer.colors.YELLOW,
            err=True,
        )


def _prepare_demo(store: EventStore, settings: Settings) -> None:
    from konenut.demo import seed

    if seed.seed(store, settings.site_id):
        typer.echo("Loaded the demo village Tel Kinamon (fictional): 124 households, 350 people.")
        tokens = seed.preenroll_devices(store, settings.site_id)
        devices = settings.data_dir / "demo-devices.json"
        devices.write_text(json.dumps(tokens, indent=1))
        devices.chmod(0o600)
    links = seed.role_links(store, settings.site_id, site_links_url(store, settings))
    typer.echo("\nOpen a link per role (fresh at every start; each works on one device):")
    for link in links:
        typer.echo(f"  {link.role.value:<10} {link.who:<28} {link.link}")
    join = seed.volunteer_pass_link(store, settings.site_id, site_links_url(store, settings))
    typer.echo(f"  {'join':<10} {'a volunteer not on the roster':<28} {join}")
    typer.echo("")


# --- tls ---------------------------------------------------------------------------------------
@tls_app.command("init")
def tls_init(
    data_dir: DataDir = None,
    hostname: Annotated[
        list[str] | None, typer.Option("--hostname", help="DNS names of the server")
    ] = None,
    ip: Annotated[list[str] | None, typer.Option("--ip", help="IP addresses of the server")] = None,
    force: Annotated[
        bool, typer.Option(help="Issue a new server certificate even if valid")
    ] = False,
    ca_key_out: Annotated[
        Path | None,
        typer.Option(
            "--ca-key-out",
            help="Keep the CA's key here (e.g. a USB stick), not beside the server key; "
            "give it again when a certificate must be issued",
        ),
    ] = None,
) -> None:
    """Create the site CA and a server certificate for HTTPS on the LAN."""
    from konenut.security.tls import TlsError, default_lan_addresses, init_tls

    settings = settings_for(data_dir)
    settings.ensure_data_dir()
    try:
        paths = init_tls(
            settings.data_dir,
            _site_name(settings),
            hostname or [],
            ip or default_lan_addresses(),
            force_server=force,
            ca_key_out=ca_key_out,
        )
    except TlsError as exc:
        fail(str(exc))
    typer.echo(f"CA certificate: {paths.ca_cert} ({'new' if paths.ca_created else 'kept'})")
    if ca_key_out is not None:
        typer.echo(f"CA key: {ca_key_out} (offline: keep it off this machine, in a safe place)")
    typer.echo(
        f"Server certificate: {paths.server_cert} ({'new' if paths.server_issued else 'kept'})"
    )
    typer.echo(f"CA fingerprint (SHA-256): {paths.ca_fingerprint_sha256}")
    typer.echo("Install ca.crt on each phone once, then `konenut serve --tls --host 0.0.0.0`.")


def _site_name(settings: Settings) -> str:
    try:
        return str(tomllib.loads(settings.site_toml.read_text())["site"]["name"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "Konenut site"


# --- site --------------------------------------------------------------------------------------
@site_app.command("apply")
def site_apply(
    path: Annotated[Path, typer.Argument(help="The site TOML file", exists=True, dir_okay=False)],
    data_dir: DataDir = None,
) -> None:
    """Turn what changed in a site TOML file into events."""
    settings = settings_for(data_dir)
    with opened_store(settings) as store:
        outcome = _apply_site_file(store, settings, path)
        typer.echo("Site updated." if outcome.events else "No change.")


def _apply_site_file(store: EventStore, settings: Settings, path: Path) -> Outcome:
    from konenut.app.site_file import SiteFileError, site_file_command

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        fail(f"{path}: {exc}")
    plan_file = data.get("site", {}).get("plan")
    plan = None
    if plan_file:
        try:
            plan = json.loads((path.parent / plan_file).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            fail(f"cannot read the site plan {plan_file}: {exc}")
    try:
        command = site_file_command(data, plan)
    except SiteFileError as exc:
        fail(f"{path}: {exc}")
    outcome = run(store, settings, command)
    _report_unknown_holders(store.state(settings.site_id))
    return outcome


def _report_unknown_holders(state: SiteState) -> None:
    """Assets whose holder's ref nobody has yet: accepted, and shown as "holder unknown"."""
    for asset in list(state.assets.values()):
        if asset.holder_ref and asset.holder_person_id is None:
            typer.echo(
                f"{asset.ref}: holder unknown, nobody has the ref {asset.holder_ref!r} yet; it "
                f"becomes theirs once added (`konenut user add NAME --ref {asset.holder_ref}`)."
            )


# --- users and devices ---------------------------------------------------------------------
@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="Full name")],
    role: Annotated[list[Role], typer.Option("--role", "-r", help="Role(s) the person holds")],
    ref: Annotated[str | None, typer.Option(help="Short code, unique in the site")] = None,
    phone: Annotated[
        str | None, typer.Option(help="Phone: +972..., or as dialled in the country (05X...)")
    ] = None,
    callsign: Annotated[str | None, typer.Option()] = None,
    language: Annotated[
        list[str] | None,
        typer.Option(help="he, ar, en, th or ne; repeat for several (default: the site's)"),
    ] = None,
    team: Annotated[
        list[str] | None, typer.Option(help="A team called together (repeat for several)")
    ] = None,
    holds: Annotated[
        list[str] | None,
        typer.Option(metavar="KEY", help="Ref of a key, radio... in [[assets]] they hold"),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Register a person and print an enrollment code for their device."""
    from konenut.app.muster import add_holder

    settings = settings_for(data_dir)
    with opened_store(settings) as store:
        site = store.state(settings.site_id).site or {}
        languages = language or [site.get("default_language", "he")]
        try:
            cmd = c.AddPerson(
                ref=ref or name.lower().replace(" ", "-")[:32],
                name=name,
                roles=role,
                phone=phone,
                callsign=callsign,
                languages=languages,
                teams=team or [],
            )
        except ValueError as exc:
            fail(str(exc))
        added = run(store, settings, add_holder(None, cmd, holds or []))
        person_id = str(added.body["person_id"])
        typer.echo(f"Added {name} ({', '.join(role)}), id {person_id}")
        if holds:
            typer.echo(f"Holds: {', '.join(holds)}")
        _issue_person_code(store, settings, person_id, name, languages[0])


@user_app.command("list")
def user_list(data_dir: DataDir = None) -> None:
    """Everyone registered, with roles."""
    settings = settings_for(data_dir)
    with opened_store(settings) as store:
        for person in store.state(settings.site_id).persons.values():
            typer.echo(
                f"{person.ref:<12} {person.name:<30} {','.join(person.roles):<28} "
                f"{person.person_id}"
            )


@app.command()
def enroll(
    who: Annotated[str, typer.Argument(help="A person's or household's ref or id")],
    data_dir: DataDir = None,
    language: Annotated[str, typer.Option(help="Language of the link's page")] = "he",
) -> None:
    """Print a new one-time enrollment code (and QR) for a person's or household's device."""
    settings = settings_for(data_dir)
    with opened_store(settings) as store:
        state = store.state(settings.site_id)
        person = state.persons.get(who) or state.person_by_ref(who)
        if person is not None:
            _issue_person_code(store, settings, person.person_id, person.name, language)
            return
        household = state.households.get(who) or state.household_by_ref(who)
        if household is None:
            fail(f"no person or household {who!r}; see `konenut user list`")
        code = new_code()
        run(
            store,
            settings,
            handlers.issue_enrollment_code(
                None,
                c.IssueEnrollmentCode(
                    subject_id=household.household_id, subject_kind=SubjectKind.HOUSEHOLD
                ),
                code,
            ),
        )
        print_code(store, settings, code, household.name, language)


def _issue_person_code(
    store: EventStore, settings: Settings, person_id: str, name: str, lang: str
) -> None:
    code = new_code()
    run(
        store,
        settings,
        handlers.issue_enrollment_code(None, c.IssueEnrollmentCode(subject_id=person_id), code),
    )
    print_code(store, settings, code, name, lang)


@device_app.command("list")
def device_list(data_dir: DataDir = None) -> None:
    """Enrolled devices."""
    settings = settings_for(data_dir)
    with opened_store(settings) as store:
        state = store.state(settings.site_id)
        for token in state.tokens.values():
            status = f"revoked {token.revoked_at}" if token.revoked_at else "active"
            typer.echo(
                f"{token.token_id}  {','.join(token.roles):<24} "
                f"{state.subject_name(token.subject_id) or token.subject_id:<28} {status}"
            )


@device_app.command("revoke")
def device_revoke(
    token_id: Annotated[
        str | None, typer.Argument(help="Device id from `konenut device list`")
    ] = None,
    person: Annotated[
        str | None, typer.Option(help="A person's ref or id: revoke every device of theirs")
    ] = None,
    reason: Annotated[str, typer.Option()] = "",
    data_dir: DataDir = None,
) -> None:
    """Revoke a device at once (lost or captured phone), or with --person all of one person's."""
    if (token_id is None) == (person is None):
        fail("give either a device id or --person REF")
    settings = settings_for(data_dir)
    cmd = c.RevokeDevice(reason=reason)
    with opened_store(settings) as store:
        if person is None:
            assert token_id is not None
            outcome = run(store, settings, handlers.revoke_device(None, token_id, cmd))
            typer.echo("Revoked." if outcome.events else "It was already revoked.")
            return
        state = store.state(settings.site_id)
        found = state.persons.get(person) or state.person_by_ref(person)
        if found is None:
            fail(f"no person {person!r}; see `konenut user list`")
        outcome = run(store, settings, handlers.revoke_person_devices(None, found.person_id, cmd))
        typer.echo(f"Revoked {outcome.body['revoked']} device(s) of {found.name}.")


# --- incidents -------------------------------------------------------------------------------
@incident_app.command("open")
def incident_open(
    title: Annotated[str, typer.Argument(help="What is happening")],
    drill: Annotated[bool, typer.Option(help="A drill, clearly marked as such")] = False,
    kind: Annotated[str, typer.Option()] = "hostile_infiltration",
    data_dir: DataDir = None,
) -> None:
    """Open an incident (one real incident at a time; any number of drills)."""
    settings = settings_for(data_dir)
    with opened_store(settings) as store:
        outcome = run(
            store,
            settings,
            handlers.open_incident(None, c.OpenIncident(title=title, drill=drill, kind=kind)),
        )
        incident = store.state(settings.site_id).incidents[str(outcome.body["incident_id"])]
        typer.echo(
            f"Opened {'drill' if drill else 'incident'} {incident.ref}: {title} "
            f"({incident.incident_id})"
        )


@incident_app.command("close")
def incident_close(
    incident: Annotated[str, typer.Argument(help="Incident number or id")],
    summary: Annotated[str, typer.Option()] = "",
    data_dir: DataDir = None,
) -> None:
    """Close an incident."""
    settings = settings_for(data_dir)
    with opened_store(settings) as store:
        found = _find_incident(store.state(settings.site_id), incident)
        run(
            store,
            settings,
            handlers.close_incident(None, found.incident_id, c.CloseIncident(summary=summary)),
        )
        typer.echo(f"Closed incident {found.ref}.")


@incident_app.command("list")
def incident_list(data_dir: DataDir = None) -> None:
    """Incidents and drills, newest first."""
    settings = settings_for(data_dir)
    with opened_store(settings) as store:
        incidents = sorted(
            store.state(settings.site_id).incidents.values(),
            key=lambda i: i.opened_at,
            reverse=True,
        )
        if not incidents:
            typer.echo("No incidents.")
        for i in incidents:
            status = f"closed {i.closed_at}" if i.closed_at else "OPEN"
            typer.echo(
                f"{i.ref:>4}  {'drill' if i.drill else 'real ':<5}  {i.opened_at}  "
                f"{status:<32} {i.title}"
            )


def _find_incident(state: SiteState, key: str) -> IncidentView:
    for incident in state.incidents.values():
        if key in (incident.ref, incident.incident_id):
            return incident
    fail(f"no incident {key!r}; see `konenut incident list`")


# --- log -------------------------------------------------------------------------------------
class ExportFormat(StrEnum):
    """What `konenut log export` writes (docs/exports.md)."""

    JSONL = "jsonl"
    CSV = "csv"
    GEOJSON = "geojson"
    KML = "kml"


@log_app.command("export")
def log_export(
    incident: Annotated[
        str | None, typer.Option(help="Incident number or id (default: the whole site log)")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default: standard output)")
    ] = None,
    fmt: Annotated[
        ExportFormat,
        typer.Option("--format", help="jsonl: the log; csv, geojson, kml: positions and sightings"),
    ] = ExportFormat.JSONL,
    redacted: Annotated[
        bool,
        typer.Option("--redacted", help="For publishing: names become roles, phones are left out"),
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Export the log (audited): JSON Lines with a header and a checksum line, or positions and
    sightings as CSV, GeoJSON or KML (docs/exports.md)."""
    from konenut.app.exports import LogExport, export_header, geo_rows, render_geo

    settings = settings_for(data_dir)
    site_id = settings.site_id
    kind: ExportKind = "redacted" if redacted else "full"
    with opened_store(settings) as store:
        incident_id = (
            _find_incident(store.state(site_id), incident).incident_id if incident else None
        )
        last_seq = store.head(site_id)
        events = (
            event
            for event in takewhile(lambda e: e.seq <= last_seq, store.iter_all(site_id))
            if incident_id is None or event.incident_id == incident_id
        )
        with _output(output) as out:
            if fmt is ExportFormat.JSONL:
                header = export_header(site_id, kind, incident_id, last_seq, utcnow())
                export = LogExport(out, header)
                for event in events:
                    export.add(event)
                export.finish()
                count, what = export.count, "events"
            else:
                rows = list(geo_rows(events, kind))
                out.write(render_geo(rows, fmt.value))
                count, what = len(rows), "positions and sightings"
        audit = handlers.record_export(
            None, incident_id, count, "cli", fmt=fmt.value, redacted=redacted
        )
        run(store, settings, audit)
        typer.echo(f"Exported {count} {what}.", err=True)


@log_app.command("import")
def log_import(
    path: Annotated[
        Path,
        typer.Argument(help="A full export (`konenut log export`)", exists=True, dir_okay=False),
    ],
    data_dir: DataDir = None,
) -> None:
    """Load a full export into an empty data dir: the same log (seq, ids, times, actors), so
    the same projections; secrets stay placeholders, so no device can sign in against it."""
    from konenut.app.exports import read_export

    settings = settings_for(data_dir)
    site_id = settings.site_id
    try:
        with path.open("rb") as lines:
            events = read_export(lines, site_id).events
        with opened_store(settings, create=True, start=False) as store:
            store.import_log(site_id, events)
            store.load_projections()
            store.write_snapshot(site_id)
    except DomainError as exc:
        fail(f"{path}: {exc.detail}; nothing was stored")
    typer.echo(f"Imported {len(events)} events (seq 1-{len(events)}) of site {site_id}.")


@app.command()
def hooks(
    data_dir: DataDir = None,
    tls: Annotated[bool, typer.Option(help="URLs for `konenut serve --tls`")] = False,
) -> None:
    """Print the webhook URLs for SMS and Telegram replies, for the providers' consoles."""
    from konenut.notify.hooks import HOOK_CHANNELS, hook_url

    settings = settings_for(data_dir, tls=tls)
    if settings.inbound_secret is None and not settings.data_dir.exists():
        fail(f"no data folder at {settings.data_dir}; run `konenut init` first")
    with opened_store(settings) as store:
        base_url = site_links_url(store, settings)
    for channel in HOOK_CHANNELS:
        typer.echo(f"{channel:<9} {hook_url(settings, base_url, channel)}")
    typer.echo(
        "Keep them secret. The host is the site's public URL (`konenut init --public-url`), "
        "the address the provider reaches; for Telegram pass KONENUT_TELEGRAM_WEBHOOK_SECRET "
        "as setWebhook's secret_token."
    )


# --- the household registry ------------------------------------------------------------------
@households_app.command("import")
def households_import(
    path: Annotated[
        Path, typer.Argument(help="A .csv (UTF-8) or .xlsx sheet", exists=True, dir_okay=False)
    ],
    partial: Annotated[
        bool, typer.Option("--partial", help="Import the good households; list the others")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Import households and their members, one row per person (docs/registry.md).

    Every row is checked first; with any problem nothing is stored (unless --partial), the
    problems are printed as a table and the exit code is 1.
    """
    from konenut.app.registry import XLSX_TYPE, RegistryRejected, import_registry, read_sheet

    media_type = XLSX_TYPE if path.suffix.lower() in (".xlsx", ".xlsm") else "text/csv"
    settings = settings_for(data_dir)
    try:
        sheet = read_sheet(path.read_bytes(), media_type)
        with opened_store(settings) as store:
            outcome = store.execute(settings.site_id, import_registry(None, sheet, partial=partial))
    except RegistryRejected as exc:
        _problem_table(exc.errors)
        fail(f"{path}: {exc.detail}")
    except DomainError as exc:
        fail(exc.detail)
    body = outcome.body
    counts = body["imported"]
    _problem_table(body["errors"])
    typer.echo(
        f"Imported {counts['households']} households and {counts['persons']} people, "
        f"updated {counts['updated']} ({body['events']} events)."
    )
    if body["errors"]:
        left_out = ", ".join(body["rejected_households"])
        fail(f"{path}: households left out because of the problems above: {left_out}")


def _problem_table(errors: list[dict[str, Any]]) -> None:
    if not errors:
        return
    width = max(len("column"), *(len(str(e["column"])) for e in errors))
    typer.echo(f"{'row':>5}  {'column':<{width}}  problem")
    for error in errors:
        typer.echo(f"{error['row']:>5}  {error['column']:<{width}}  {error['msg']}")


@households_app.command("export")
def households_export(
    path: Annotated[Path, typer.Argument(help="Where to write: a .csv or an .xlsx file")],
    data_dir: DataDir = None,
) -> None:
    """Write every household and its members in the import's columns (CSV or XLSX)."""
    from konenut.app.registry import export_counts, export_rows, to_csv, to_xlsx

    settings = settings_for(data_dir)
    fmt = "xlsx" if path.suffix.lower() == ".xlsx" else "csv"
    with opened_store(settings) as store:
        rows = export_rows(store.state(settings.site_id))
        households, people = export_counts(rows)
        run(store, settings, handlers.record_registry_export(None, fmt, households, people, "cli"))
    data = to_xlsx(rows) if fmt == "xlsx" else to_csv(rows)
    with _output(path) as handle:
        handle.write(data)
    typer.echo(f"Wrote {len(rows)} rows to {path}.")


@contextmanager
def _output(path: Path | None) -> Iterator[Any]:
    if path is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    with path.open("wb") as handle:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())


def main() -> None:
    configure_logging()
    app()


@cards_app.command("print")
def cards_print(
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write")],
    households: Annotated[
        str, typer.Option(help='"all", or house refs separated by commas: "12,14,W1"')
    ] = "all",
    lang: Annotated[str, typer.Option(help="The language of the page around the cards")] = "he",
    data_dir: DataDir = None,
) -> None:
    """Issue fresh household cards and write them as one printable HTML page (A6 cards).

    Each household's previous card stops working; devices it enrolled keep working.
    """
    from konenut.app import cards
    from konenut.i18n import LANGUAGES
    from konenut.web.cards import standalone_html

    if lang not in LANGUAGES:
        fail(f"no language {lang!r}; use one of {', '.join(LANGUAGES)}")
    wanted = "all" if households == "all" else [r.strip() for r in households.split(",") if r]
    settings = settings_for(data_dir)
    with opened_store(settings) as store:
        outcome = run(store, settings, cards.issue_cards(None, cards.IssueCards(households=wanted)))
        base_url = site_links_url(store, settings)
    printed = [
        cards.printed_card(base_url, card, code)
        for card, code in zip(outcome.body["cards"], outcome.body["codes"], strict=True)
    ]
    out.write_text(standalone_html(printed, lang), encoding="utf-8")
    typer.echo(f"{len(printed)} cards written to {out}")


# --- generated docs --------------------------------------------------------------------------
docs_app = typer.Typer(help="Docs pages written from the code.", no_args_is_help=True)
app.add_typer(docs_app, name="docs")


@docs_app.command("permissions")
def docs_permissions(
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="File (default: standard output)")
    ] = None,
) -> None:
    """Write docs/permissions.md: every route and event type, as every role gets it."""
    from konenut.api.permissions_doc import app_operations, render

    page = render(app_operations())
    if out is None:
        typer.echo(page, nl=False)
        return
    out.write_text(page, encoding="utf-8")
    typer.echo(f"written to {out}", err=True)
