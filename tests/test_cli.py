"""The `konenut` command as a newcomer uses it: the installed console script, real processes.

init → serve → enrol the first admin from the printed code; the demo's link per role; incidents
and the log export from the command line while the server runs; HTTPS with the site CA; and
the errors a newcomer meets first.
"""

from __future__ import annotations

import re
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from helpers import enrol as enrol_in_store
from helpers import open_store
from konenut.app import commands as c
from server import KONENUT, KonenutServer, run_konenut

CODE = re.compile(r"\b([A-Z2-7]{4}-[A-Z2-7]{4})\b")
LINK = re.compile(r"(https?://\S+/(he|en|ar|th|ne)/enroll#([A-Z2-7]{8}))")
JOIN_LINK = re.compile(r"^\s+join\s+.+?\s+https?://\S+/en/p#([A-Z2-7]{16})\s*$", re.M)
DEMO_LINK = re.compile(r"^\s+([a-z]+)\s+.+?\s+(https?://\S+/enroll#([A-Z2-7]{8}))\s*$", re.M)
ALL_ROLES = {
    "admin",
    "commander",
    "operator",
    "responder",
    "medic",
    "resident",
    "guest",
    "volunteer",
    "liaison",
}
APPEARS_WITHIN = 5.0  # contracts §8: "appears on the other page" waits up to 5 s


# --- helpers --------------------------------------------------------------------------------
def konenut(*args: str, ok: bool = True) -> Any:
    result = run_konenut(*args)
    if ok:
        assert result.returncode == 0, (
            f"konenut {' '.join(args)} exited {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
    return result


def enrol(server: KonenutServer, code: str, device: str = "phone") -> str:
    """Redeem an enrollment code as a new device would; returns the device's token."""
    with server.client() as client:
        answer = client.post(
            "/api/v1/enroll",
            json={"code": code, "device_name": device},
            headers={"Idempotency-Key": f"enrol-{code}"},
        )
    assert answer.status_code == 201, answer.text
    token: str = answer.json()["token"]
    return token


def me(server: KonenutServer, token: str) -> dict[str, Any]:
    with server.client(headers={"Authorization": f"Bearer {token}"}) as client:
        answer = client.get("/api/v1/me")
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def eventually(check: Callable[[], Any], within: float = APPEARS_WITHIN) -> Any:
    """The first truthy result of `check`, polled for up to `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


@pytest.fixture
def servers() -> Iterator[list[KonenutServer]]:
    """Servers a test starts; all are stopped at the end, whatever happens."""
    started: list[KonenutServer] = []
    yield started
    for server in started:
        server.stop()


def serve(servers: list[KonenutServer], data_dir: Path, **kwargs: Any) -> KonenutServer:
    server = KonenutServer(data_dir, **kwargs)
    servers.append(server)
    return server.start()


# --- the tests ------------------------------------------------------------------------------
def test_help_lists_the_commands() -> None:
    assert Path(KONENUT).is_file()
    result = konenut("--help")
    for command in ("init", "serve", "enroll", "tls", "site", "user", "device", "incident", "log"):
        assert re.search(rf"^\W*{command}\s", result.stdout, re.M), (command, result.stdout)
    assert "Usage: konenut" in result.stdout
    sub = konenut("incident", "--help")
    for command in ("open", "close", "list"):
        assert re.search(rf"^\W*{command}\s", sub.stdout, re.M), (command, sub.stdout)


@pytest.fixture(autouse=True)
def in_a_fresh_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command runs in an empty working folder, as for someone trying Konenut out."""
    monkeypatch.chdir(tmp_path)


def test_serve_without_init_says_to_run_init_and_init_makes_the_default_folder(
    tmp_path: Path,
) -> None:
    result = konenut("serve", "--port", "1", ok=False)
    assert result.returncode != 0
    assert "konenut init" in result.stderr
    assert not (tmp_path / "konenut-data").exists()  # nothing half-made behind their back

    init = konenut("init")  # the default data folder: ./konenut-data
    assert (tmp_path / "konenut-data" / "konenut.db").is_file()
    assert (tmp_path / "konenut-data" / "site.toml").is_file()
    assert len(CODE.findall(init.stdout)) == 1
    assert "No incidents." in konenut("incident", "list").stdout


def test_init_serve_and_enrol_the_first_admin(tmp_path: Path, servers: list[KonenutServer]) -> None:
    data_dir = tmp_path / "my-site"
    result = konenut("init", "--data-dir", str(data_dir), "--site-name", "Kfar Test")
    assert (data_dir / "site.toml").is_file() and (data_dir / "konenut.db").is_file()
    assert 'name = "Kfar Test"' in (data_dir / "site.toml").read_text()
    codes = CODE.findall(result.stdout)
    links = LINK.findall(result.stdout)
    assert len(codes) == 1 and len(links) == 1, result.stdout
    assert links[0][2] == codes[0].replace("-", "")

    server = serve(servers, data_dir)
    with server.client() as client:
        ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    token = enrol(server, codes[0], "admin phone")
    who = me(server, token)
    assert who["primary_role"] == "admin" and who["roles"] == ["admin"]
    assert who["site_name"] == "Kfar Test"
    with server.client() as client:  # a one-time code: the second device is refused
        again = client.post(
            "/api/v1/enroll", json={"code": codes[0]}, headers={"Idempotency-Key": "other"}
        )
    assert again.status_code == 409 and again.json()["type"].startswith("urn:konenut:problem:")
    server.stop()

    # `init` again keeps the site and its admin, and prints a fresh code for the admin.
    rerun = konenut("init", "--data-dir", str(data_dir))
    fresh = CODE.findall(rerun.stdout)
    assert len(fresh) == 1 and fresh[0] != codes[0]
    people = konenut("user", "list", "--data-dir", str(data_dir)).stdout
    assert len([line for line in people.splitlines() if "admin" in line]) == 1
    server.start()
    second = enrol(server, fresh[0], "admin tablet")
    assert me(server, second)["primary_role"] == "admin"
    assert me(server, token)["token_id"] != me(server, second)["token_id"]


def test_incidents_and_log_export_from_the_cli_while_serving(
    tmp_path: Path, servers: list[KonenutServer]
) -> None:
    data_dir = tmp_path / "site"
    admin_code = CODE.findall(konenut("init", "--data-dir", str(data_dir)).stdout)[0]
    server = serve(servers, data_dir)
    d = ("--data-dir", str(data_dir))
    admin = {"Authorization": f"Bearer {enrol(server, admin_code)}"}

    opened = konenut("incident", "open", "Smoke near the gate", *d)
    assert re.search(r"Opened incident 1: Smoke near the gate", opened.stdout), opened.stdout
    second = konenut("incident", "open", "Another one", *d, ok=False)
    assert second.returncode != 0 and "already open" in second.stderr

    with server.client(headers=admin) as client:
        # The running server sees what the CLI appended, within seconds.
        def listed() -> list[dict[str, Any]]:
            incidents: list[dict[str, Any]] = client.get("/api/v1/incidents").json()
            return incidents

        incidents = eventually(listed)
        assert [(i["ref"], i["title"], i["closed_at"]) for i in incidents] == [
            ("1", "Smoke near the gate", None)
        ]
        incident_id = incidents[0]["incident_id"]

        # The admin sets up a household and a commander, who reports into the incident.
        def post(
            path: str, body: dict[str, Any], key: str, auth: dict[str, str] = admin
        ) -> dict[str, Any]:
            answer = client.post(path, json=body, headers={**auth, "Idempotency-Key": key})
            assert answer.status_code == 201, answer.text
            result: dict[str, Any] = answer.json()
            return result

        home = post("/api/v1/site/households", {"ref": "31", "name": "Cohen"}, "h31")
        person = post(
            "/api/v1/site/people",
            {"ref": "cmd", "name": "Dana Commander", "roles": ["commander"], "callsign": "D1"},
            "p1",
        )
        issued = post("/api/v1/site/enrollment-codes", {"subject_id": person["person_id"]}, "code1")
        commander = {"Authorization": f"Bearer {enrol(server, issued['code'])}"}
        base = f"/api/v1/incidents/{incident_id}"
        post(
            f"{base}/households/{home['household_id']}/check-ins",
            {"status": "safe", "text": "כולם בממ״ד"},
            "c1",
            auth=commander,
        )
        post(f"{base}/positions", {"location": {"lat": 32.1, "lon": 35.2}}, "pos1", auth=commander)

    listing = konenut("incident", "list", *d).stdout
    assert re.search(r"^\s*1\s+real\s+\S+\s+OPEN\s+Smoke near the gate$", listing, re.M), listing

    export = konenut("log", "export", "--incident", "1", *d)
    # Between the header line and the checksum line (docs/exports.md).
    events = [orjson.loads(line) for line in export.stdout.splitlines()][1:-1]
    assert [e["type"] for e in events] == [
        "incident.opened",
        "household.checked_in",
        "position.reported",
    ]
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert {e["incident_id"] for e in events} == {incident_id}
    assert events[1]["payload"]["text"] == "כולם בממ״ד"
    assert f"Exported {len(events)} events." in export.stderr
    whole = [orjson.loads(line) for line in konenut("log", "export", *d).stdout.splitlines()][1:-1]
    assert [e["seq"] for e in whole] == list(range(1, len(whole) + 1))
    hashes = [e["payload"].get(k) for e in whole for k in ("token_hash", "code_hash")]
    assert {h[:40] for h in hashes if h} == {"0" * 40}  # placeholders, never the hashes

    closed = konenut("incident", "close", "1", "--summary", "False alarm", *d)
    assert "Closed incident 1." in closed.stdout
    assert re.search(r"^\s*1\s+real\s+.*closed \S+Z", konenut("incident", "list", *d).stdout, re.M)
    with server.client(headers=admin) as client:
        seen = eventually(lambda: client.get("/api/v1/incidents").json()[0]["closed_at"])
    assert seen

    missing = konenut("incident", "close", "99", *d, ok=False)
    assert missing.returncode != 0
    assert "no incident '99'" in missing.stderr and "konenut incident list" in missing.stderr
    assert missing.stdout == ""
    twice = konenut("incident", "close", "1", *d, ok=False)
    assert twice.returncode != 0 and "closed" in twice.stderr


def test_demo_prints_a_working_link_per_role(tmp_path: Path, servers: list[KonenutServer]) -> None:
    server = serve(servers, tmp_path / "demo", flags=["--demo"])
    links = DEMO_LINK.findall(server.last_output())
    assert sorted(role for role, _, _ in links) == sorted(ALL_ROLES), server.last_output()
    assert all(link.startswith(server.url) for _, link, _ in links)
    for role, _, code in links:
        who = me(server, enrol(server, code, f"{role} phone"))
        assert who["primary_role"] == role, (role, who)
        if role in ("guest", "volunteer", "liaison"):
            assert who["incident_id"]  # bound to the demo drill
        if role == "resident":
            assert who["household_id"]
    # A stranger can join the drill as a volunteer from the printed standing pass.
    (join_code,) = JOIN_LINK.findall(server.last_output())
    with server.client() as client:
        joined = client.post(
            "/api/v1/passes/redeem",
            json={"code": join_code, "name": "Avi Peretz", "affiliation": "police", "armed": True},
            headers={"Idempotency-Key": "join-1"},
        )
    assert joined.status_code == 201, joined.text
    assert joined.json()["status"] == "pending"

    # Every start prints fresh links that work; the village is not loaded twice.
    server.stop()
    server.start()
    again = DEMO_LINK.findall(server.last_output())
    assert len(again) == len(ALL_ROLES)
    assert not {code for _, _, code in again} & {code for _, _, code in links}
    assert "Loaded the demo village" not in server.last_output()
    assert me(server, enrol(server, again[0][2]))["primary_role"] == again[0][0]


def test_tls_init_and_serve_over_verified_https(
    tmp_path: Path, servers: list[KonenutServer]
) -> None:
    data_dir = tmp_path / "site"
    konenut("init", "--data-dir", str(data_dir))
    result = konenut("tls", "init", "--data-dir", str(data_dir), "--hostname", "konenut.local")
    ca_file, server_file = data_dir / "tls" / "ca.crt", data_dir / "tls" / "server.crt"
    assert ca_file.is_file() and server_file.is_file()
    ca = x509.load_pem_x509_certificate(ca_file.read_bytes())
    fingerprint = ca.fingerprint(hashes.SHA256()).hex(":").upper()
    assert f"CA fingerprint (SHA-256): {fingerprint}" in result.stdout
    names = (
        x509.load_pem_x509_certificate(server_file.read_bytes())
        .extensions.get_extension_for_class(x509.SubjectAlternativeName)
        .value.get_values_for_type(x509.DNSName)
    )
    assert "konenut.local" in names

    server = serve(servers, data_dir, flags=["--tls"], tls_ca=ca_file)
    assert server.url.startswith("https://")
    verified = ssl.create_default_context(cafile=str(ca_file))

    def readyz(verify: ssl.SSLContext | bool, url: str = server.url, **kw: Any) -> int:
        with httpx.Client(verify=verify) as client:  # a new connection each time
            return client.get(f"{url}/readyz", **kw).status_code

    assert readyz(verified) == 200
    assert readyz(verified, extensions={"sni_hostname": "konenut.local"}) == 200
    with pytest.raises(httpx.ConnectError):  # a name the certificate does not carry
        readyz(verified, extensions={"sni_hostname": "evil.example"})
    with pytest.raises(httpx.ConnectError):  # without the site CA: not trusted
        readyz(True)
    with pytest.raises(httpx.HTTPError):  # no plain HTTP on the TLS port
        readyz(verified, server.url.replace("https://", "http://"))


def test_serve_tls_without_certificates_says_what_to_run(tmp_path: Path) -> None:
    data_dir = tmp_path / "site"
    data_dir.mkdir()
    result = konenut("serve", "--tls", "--data-dir", str(data_dir), "--port", "1", ok=False)
    assert result.returncode != 0 and "konenut tls init" in result.stderr


SITE_FILE_EXTRAS = """
[escalation]
steps = [
  { channel = "push", after_secs = 0 },
  { channel = "sms", after_secs = 20 },
  { channel = "deputy", after_secs = 60 },
]

[[muster_templates]]
id = "flood"
kind = "flood"
texts = { en = "Flood: bring the pump to gate 2", he = "הצפה: להביא את המשאבה לשער 2" }

[[assets]]
ref = "key-gate-1"
kind = "gate_key"
name = "Gate 1 key"
opens_ref = "1"
holder = "dana"
"""


def test_site_file_sets_policy_templates_and_keys(tmp_path: Path) -> None:
    data_dir = tmp_path / "site"
    konenut("init", "--data-dir", str(data_dir))
    konenut("user", "add", "Dana Levi", "--role", "responder", "--ref", "dana", "-d", str(data_dir))
    konenut("user", "add", "Omer Tal", "--role", "responder", "--ref", "omer", "-d", str(data_dir))
    site_toml = data_dir / "site.toml"
    original = site_toml.read_text()
    assert "[escalation]" in original  # the template shows how, commented out
    site_toml.write_text(original + SITE_FILE_EXTRAS)
    assert "Site updated." in konenut("site", "apply", str(site_toml), "-d", str(data_dir)).stdout
    assert "No change." in konenut("site", "apply", str(site_toml), "-d", str(data_dir)).stdout

    # The key changes hands in the file: only the hand-over is new.
    site_toml.write_text(original + SITE_FILE_EXTRAS.replace('holder = "dana"', 'holder = "omer"'))
    konenut("site", "apply", str(site_toml), "-d", str(data_dir))
    # A bad step order is refused with the section named, and nothing is stored.
    backwards = SITE_FILE_EXTRAS.replace("after_secs = 20", "after_secs = 200")
    site_toml.write_text(original + backwards)
    refused = konenut("site", "apply", str(site_toml), "-d", str(data_dir), ok=False)
    assert refused.returncode != 0 and "[escalation]" in refused.stderr
    assert "time order" in refused.stderr

    store = open_store(f"sqlite:///{data_dir / 'konenut.db'}")
    try:
        state = store.state("site")
        types = [e.type for e in store.read("site", 0)]
    finally:
        store.close()
    assert types.count("escalation_policy.set") == 1
    assert types.count("asset.added") == 1 and types.count("asset.handed_over") == 1
    assert [s["channel"] for s in state.escalation_policy or []] == ["push", "sms", "deputy"]
    (key,) = state.assets.values()
    assert state.persons[key.holder_person_id or ""].ref == "omer"
    assert state.site and state.site["muster_templates"][0]["id"] == "flood"


def test_the_site_file_sets_what_a_guest_poster_may_bring_in(tmp_path: Path) -> None:
    data_dir = tmp_path / "site"
    konenut("init", "--data-dir", str(data_dir))
    site_toml = data_dir / "site.toml"
    template = site_toml.read_text()
    assert "# [guests]" in template  # the template shows how, commented out
    shelter = "[guests]\nmax_devices_per_poster = 200\nmax_people_per_guest = 60\n"
    site_toml.write_text(template + shelter)
    assert "Site updated." in konenut("site", "apply", str(site_toml), "-d", str(data_dir)).stdout
    site_toml.write_text(template + "[guests]\nmax_people_per_guest = 900\n")
    refused = konenut("site", "apply", str(site_toml), "-d", str(data_dir), ok=False)
    assert refused.returncode != 0 and "guests.max_people_per_guest" in refused.stderr

    store = open_store(f"sqlite:///{data_dir / 'konenut.db'}")
    try:
        state = store.state("site")
    finally:
        store.close()
    assert state.site and state.site["guests"]["max_devices_per_poster"] == 200
    assert state.site["guests"]["max_people_per_guest"] == 60
    assert state.site["guests"]["redemptions_per_address_per_min"] == 10  # the default


def test_a_local_phone_is_read_with_the_country_code_of_the_site_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "site"
    konenut("init", "--data-dir", str(data_dir), "--admin-phone", "050-123 4567")
    site_toml = data_dir / "site.toml"
    template = site_toml.read_text()
    assert '# country_code = "972"' in template
    site_toml.write_text(template.replace('# country_code = "972"', 'country_code = "66"'))
    konenut("site", "apply", str(site_toml), "-d", str(data_dir))
    d = ("-d", str(data_dir))
    konenut("user", "add", "Somchai", "--role", "responder", "--phone", "081 234 5678", *d)
    refused = konenut(
        "user", "add", "Lek", "--role", "responder", "--phone", "812345678", *d, ok=False
    )
    assert refused.returncode != 0 and "812345678" in refused.stderr

    store = open_store(f"sqlite:///{data_dir / 'konenut.db'}")
    try:
        state = store.state("site")
    finally:
        store.close()
    phones = {p.name: p.phone for p in state.persons.values()}
    # The admin came before the site file said Thailand: the default, Israel.
    assert phones == {"Admin": "+972501234567", "Somchai": "+66812345678"}


# --- links point where phones reach the server (issue 10, item 15) ---------------------------
PUBLIC_URL = "https://konenut.kibbutz.example:8443"
PERSON_ID = re.compile(r"^Added .+, id (\S+)$", re.M)


def issue_link(server: KonenutServer, auth: dict[str, str], person_id: str, key: str) -> str:
    """The link of an enrollment code the running server issues (its own links' base)."""
    with server.client(headers={**auth, "Idempotency-Key": key}) as client:
        issued = client.post("/api/v1/site/enrollment-codes", json={"subject_id": person_id})
    assert issued.status_code == 201, issued.text
    link: str = issued.json()["link"]
    return link


def test_every_printed_link_and_qr_uses_the_sites_public_url(
    tmp_path: Path, servers: list[KonenutServer]
) -> None:
    from konenut.security.qr import qr_png

    data_dir = tmp_path / "site"
    d = ("--data-dir", str(data_dir))
    init = konenut("init", *d, "--public-url", PUBLIC_URL + "/")
    ((link, _, code),) = LINK.findall(init.stdout)
    assert link == f"{PUBLIC_URL}/he/enroll#{code}"
    assert "127.0.0.1" not in init.stdout
    # The QR code printed beside it holds the same link.
    qr = data_dir / "qr" / f"enroll-{code}.png"
    assert qr.read_bytes() == qr_png(link, tmp_path / "expected.png").read_bytes()

    added = konenut("user", "add", "Dana Levi", "--role", "responder", "--ref", "dana", *d)
    assert LINK.findall(added.stdout)[0][0].startswith(f"{PUBLIC_URL}/he/enroll#")
    dana_id = PERSON_ID.findall(added.stdout)[0]
    again = konenut("enroll", "dana", "--language", "en", *d)
    assert LINK.findall(again.stdout)[0][0].startswith(f"{PUBLIC_URL}/en/enroll#")
    hooks = re.findall(r"^(sms|telegram)\s+(\S+)$", konenut("hooks", *d).stdout, re.M)
    assert [(channel, url.startswith(f"{PUBLIC_URL}/api/v1/hooks/")) for channel, url in hooks] == [
        ("sms", True),
        ("telegram", True),
    ], hooks

    # The server listens elsewhere (a free port on loopback): it says so, and the links it
    # hands out still go to the public address.
    server = serve(servers, data_dir)
    output = server.last_output()
    assert f"warning: links and QR codes point to {PUBLIC_URL}, but this server listens on " in (
        " ".join(output.split())
    ), output
    admin = {"Authorization": f"Bearer {enrol(server, code)}"}
    assert issue_link(server, admin, dana_id, "c1").startswith(f"{PUBLIC_URL}/he/enroll#")
    with server.client(headers={**admin, "Idempotency-Key": "h31"}) as client:
        home = client.post("/api/v1/site/households", json={"ref": "31", "name": "Cohen"})
    assert home.status_code == 201, home.text
    cards = tmp_path / "cards.html"
    konenut("cards", "print", "--out", str(cards), *d)
    assert f"{PUBLIC_URL}/he/p#" in cards.read_text() and "127.0.0.1" not in cards.read_text()


def test_without_a_public_url_links_follow_serve_until_one_is_set(
    tmp_path: Path, servers: list[KonenutServer]
) -> None:
    data_dir = tmp_path / "site"
    d = ("--data-dir", str(data_dir))
    init = konenut("init", *d)
    assert "No public URL is set" in init.stdout and "--public-url" in init.stdout
    code = CODE.findall(init.stdout)[0].replace("-", "")
    dana_id = PERSON_ID.findall(konenut("user", "add", "Dana", "-r", "responder", *d).stdout)[0]
    server = serve(servers, data_dir)
    assert "warning" not in server.last_output()
    admin = {"Authorization": f"Bearer {enrol(server, code)}"}
    assert issue_link(server, admin, dana_id, "c1").startswith(f"{server.url}/he/enroll#")

    # Set on the existing folder while the server runs: its links follow within seconds.
    refused = konenut("init", *d, "--public-url", "konenut.lan/app", ok=False)
    assert refused.returncode != 0 and "--public-url" in refused.stderr
    konenut("init", *d, "--public-url", PUBLIC_URL)
    keys = iter(range(2, 100))
    assert eventually(
        lambda: issue_link(server, admin, dana_id, f"c{next(keys)}").startswith(PUBLIC_URL)
    )


# --- keys and equipment, and set-up in any order (issue 10, item 17) ---------------------------
KEYS_BEFORE_PEOPLE = """
[[assets]]
ref = "key-gate-3"
kind = "gate_key"
name = "Gate 3 key"
opens_ref = "3"
holder = "gil"

[[assets]]
ref = "radio-1"
kind = "radio"
name = "Radio 1"
"""


def test_keys_may_name_holders_registered_later_and_user_add_sets_them_up(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "site"
    d = ("--data-dir", str(data_dir))
    konenut("init", *d)
    site_toml = data_dir / "site.toml"
    site_toml.write_text(site_toml.read_text() + KEYS_BEFORE_PEOPLE)
    applied = konenut("site", "apply", str(site_toml), *d)
    assert "Site updated." in applied.stdout
    assert "key-gate-3: holder unknown" in applied.stdout

    gil = konenut(
        "user", "add", "Gil Amir", "--role", "responder", "--ref", "gil", "--team", "north",
        "--team", "fence", "--phone", "+972501234567", "--language", "en", "--language", "th", *d,
    )  # fmt: skip
    assert LINK.findall(gil.stdout)[0][1] == "en"
    noa = ("user", "add", "Noa Bar", "-r", "responder", "--ref", "noa", *d)
    missing = konenut(*noa, "--holds", "key-9", ok=False)
    assert "key-9" in missing.stderr and "[[assets]]" in missing.stderr
    noa_added = konenut(*noa, "--holds", "radio-1")
    assert "Holds: radio-1" in noa_added.stdout
    # The file again: nothing to change, and the radio stays with Noa.
    assert "No change." in konenut("site", "apply", str(site_toml), *d).stdout

    store = open_store(f"sqlite:///{data_dir / 'konenut.db'}")
    try:
        state = store.state("site")
    finally:
        store.close()
    person = state.person_by_ref("gil")
    assert person is not None
    assert (person.teams, person.phone, person.languages) == (
        ["north", "fence"],
        "+972501234567",
        ["en", "th"],
    )
    holders = {a.ref: state.persons[a.holder_person_id or ""].ref for a in state.assets.values()}
    assert holders == {"key-gate-3": "gil", "radio-1": "noa"}
    assert [p.ref for p in state.persons.values()].count("noa") == 1  # nothing half-stored


def test_device_revoke_person_revokes_every_device_of_that_person_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "site"
    d = ("--data-dir", str(data_dir))
    konenut("init", *d)
    konenut("user", "add", "Dana Levi", "--role", "responder", "--ref", "dana", *d)
    konenut("user", "add", "Omer Tal", "--role", "responder", "--ref", "omer", *d)
    store = open_store(f"sqlite:///{data_dir / 'konenut.db'}")
    try:
        people = {p.ref: p.person_id for p in store.state("site").persons.values()}
        for ref in ("dana", "dana", "omer"):
            enrol_in_store(store, c.IssueEnrollmentCode(subject_id=people[ref]), "site")
    finally:
        store.close()

    revoked = konenut("device", "revoke", "--person", "dana", "--reason", "phone captured", *d)
    assert "Revoked 2 device(s) of Dana Levi." in revoked.stdout
    unknown = konenut("device", "revoke", "--person", "nobody", *d, ok=False)
    assert unknown.returncode != 0 and "no person 'nobody'" in unknown.stderr

    store = open_store(f"sqlite:///{data_dir / 'konenut.db'}")
    try:
        tokens = list(store.state("site").tokens.values())
    finally:
        store.close()
    live = {people["dana"]: 0, people["omer"]: 0}
    for token in tokens:
        live[token.subject_id] += token.revoked_at is None
    assert live == {people["dana"]: 0, people["omer"]: 1}
