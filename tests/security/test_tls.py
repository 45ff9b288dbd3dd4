"""Tests for the site CA, the LAN server certificate and client certificates."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from konenut.security.tls import (
    TlsError,
    TlsPaths,
    default_lan_addresses,
    init_tls,
    issue_client_certificate,
    load_tls_paths,
)
from server import run_konenut

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
HOSTNAMES = ["konenut.local", "warroom.example.org"]
IPS = ["192.168.1.20"]
SOCKET_TIMEOUT_S = 5.0


def _init(data_dir: Path, **overrides: object) -> TlsPaths:
    arguments: dict[str, object] = {
        "site_name": "Kfar Test",
        "hostnames": HOSTNAMES,
        "ip_addresses": IPS,
        "now": T0,
    }
    arguments.update(overrides)
    return init_tls(data_dir, **arguments)  # type: ignore[arg-type]


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _ext(cert: x509.Certificate, kind: type[x509.ExtensionType]) -> x509.ExtensionType:
    return cert.extensions.get_extension_for_class(kind).value


@pytest.fixture
def paths(tmp_path: Path) -> TlsPaths:
    return _init(tmp_path)


@pytest.fixture
def live_paths(tmp_path: Path) -> TlsPaths:
    """Certificates valid at the real current time, for real handshakes."""
    return _init(tmp_path / "live", now=None)


# --- files and certificate contents -------------------------------------------------


def test_init_creates_files_in_tls_dir(tmp_path: Path, paths: TlsPaths) -> None:
    assert paths.tls_dir == tmp_path / "tls"
    for path in (paths.ca_key, paths.ca_cert, paths.server_key, paths.server_cert):
        assert path.parent == paths.tls_dir
        assert path.is_file()
    assert paths.ca_created and paths.server_issued
    assert not list(paths.tls_dir.glob(".*.tmp"))


def test_private_keys_are_owner_only(paths: TlsPaths) -> None:
    assert _mode(paths.ca_key) == 0o600
    assert _mode(paths.server_key) == 0o600
    assert _mode(paths.ca_cert) == 0o644


def test_ca_certificate_is_a_p256_ten_year_ca(paths: TlsPaths) -> None:
    ca = _cert(paths.ca_cert)
    public_key = ca.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert public_key.curve.name == "secp256r1"
    assert ca.subject == ca.issuer
    common_name = ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert common_name == "Konenut Kfar Test CA"
    constraints = _ext(ca, x509.BasicConstraints)
    assert isinstance(constraints, x509.BasicConstraints)
    assert constraints.ca and constraints.path_length == 0
    usage = _ext(ca, x509.KeyUsage)
    assert isinstance(usage, x509.KeyUsage)
    assert usage.key_cert_sign and usage.crl_sign and not usage.digital_signature
    validity = ca.not_valid_after_utc - ca.not_valid_before_utc
    assert timedelta(days=3650) <= validity <= timedelta(days=3653)
    ca.verify_directly_issued_by(ca)


def test_server_certificate_is_signed_by_the_ca(paths: TlsPaths) -> None:
    _cert(paths.server_cert).verify_directly_issued_by(_cert(paths.ca_cert))


def test_server_certificate_names_usage_and_validity(paths: TlsPaths) -> None:
    server = _cert(paths.server_cert)
    san = _ext(server, x509.SubjectAlternativeName)
    assert isinstance(san, x509.SubjectAlternativeName)
    assert set(san.get_values_for_type(x509.DNSName)) == {*HOSTNAMES, "localhost"}
    assert set(san.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("192.168.1.20"),
        ipaddress.ip_address("127.0.0.1"),
    }
    eku = _ext(server, x509.ExtendedKeyUsage)
    assert isinstance(eku, x509.ExtendedKeyUsage)
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    usage = _ext(server, x509.KeyUsage)
    assert isinstance(usage, x509.KeyUsage)
    assert usage.digital_signature and not usage.key_cert_sign
    constraints = _ext(server, x509.BasicConstraints)
    assert isinstance(constraints, x509.BasicConstraints)
    assert not constraints.ca
    validity = server.not_valid_after_utc - server.not_valid_before_utc
    assert validity == timedelta(days=397)
    assert server.not_valid_before_utc <= T0 < server.not_valid_after_utc


def test_hostname_given_as_ip_lands_in_ip_sans(tmp_path: Path) -> None:
    paths = _init(tmp_path, hostnames=["10.0.0.5", "Konenut.Local."], ip_addresses=[])
    san = _ext(_cert(paths.server_cert), x509.SubjectAlternativeName)
    assert isinstance(san, x509.SubjectAlternativeName)
    assert set(san.get_values_for_type(x509.DNSName)) == {"konenut.local", "localhost"}
    assert ipaddress.ip_address("10.0.0.5") in san.get_values_for_type(x509.IPAddress)


def test_fingerprint_is_colon_hex_sha256_of_the_ca(paths: TlsPaths) -> None:
    ca = _cert(paths.ca_cert)
    expected = ca.fingerprint(hashes.SHA256()).hex(":").upper()
    assert paths.ca_fingerprint_sha256 == expected
    assert len(paths.ca_fingerprint_sha256.split(":")) == 32


def test_load_tls_paths_finds_existing_files(tmp_path: Path, paths: TlsPaths) -> None:
    loaded = load_tls_paths(tmp_path)
    assert loaded.server_cert == paths.server_cert
    assert loaded.ca_fingerprint_sha256 == paths.ca_fingerprint_sha256


def test_load_tls_paths_without_init_explains(tmp_path: Path) -> None:
    with pytest.raises(TlsError, match="konenut tls init"):
        load_tls_paths(tmp_path)


# --- idempotency and renewal --------------------------------------------------------


def test_second_init_keeps_ca_and_server_cert(tmp_path: Path, paths: TlsPaths) -> None:
    ca_bytes = paths.ca_key.read_bytes()
    server_bytes = paths.server_cert.read_bytes()
    again = _init(tmp_path, now=T0 + timedelta(days=10))
    assert again.ca_fingerprint_sha256 == paths.ca_fingerprint_sha256
    assert paths.ca_key.read_bytes() == ca_bytes
    assert not again.ca_created and not again.server_issued
    assert paths.server_cert.read_bytes() == server_bytes


def test_changed_hostnames_issue_a_new_server_cert(tmp_path: Path, paths: TlsPaths) -> None:
    """A new name under the site's domain, a new DHCP lease on its LAN: the same CA signs."""
    old_serial = _cert(paths.server_cert).serial_number
    again = _init(tmp_path, hostnames=["gate.konenut.local"], ip_addresses=["192.168.1.77"])
    new_cert = _cert(paths.server_cert)
    assert again.server_issued and new_cert.serial_number != old_serial
    assert again.ca_fingerprint_sha256 == paths.ca_fingerprint_sha256
    san = _ext(new_cert, x509.SubjectAlternativeName)
    assert isinstance(san, x509.SubjectAlternativeName)
    assert "gate.konenut.local" in san.get_values_for_type(x509.DNSName)


def test_ca_may_sign_only_for_the_sites_names(paths: TlsPaths) -> None:
    """The review: the site CA could sign for any name. Now only the site's names and LAN."""
    ca = _cert(paths.ca_cert)
    extension = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert extension.critical
    constraints = extension.value
    assert constraints.excluded_subtrees is None
    permitted = constraints.permitted_subtrees or []
    assert {t.value for t in permitted if isinstance(t, x509.DNSName)} == {
        "localhost",
        "konenut.local",
        "warroom.example.org",
    }
    assert {t.value for t in permitted if isinstance(t, x509.IPAddress)} == {
        ipaddress.ip_network("127.0.0.0/24"),
        ipaddress.ip_network("192.168.1.0/24"),
    }


def test_a_name_outside_the_ca_is_refused_before_signing(tmp_path: Path, paths: TlsPaths) -> None:
    before = paths.server_cert.read_bytes()
    with pytest.raises(TlsError, match=r"may sign only for .*not bank\.example.*new CA"):
        _init(tmp_path, hostnames=["bank.example"])
    with pytest.raises(TlsError, match=r"not 10\.0\.0\.5"):
        _init(tmp_path, ip_addresses=["10.0.0.5"])
    assert paths.server_cert.read_bytes() == before


def test_ca_key_out_keeps_the_key_off_the_server(tmp_path: Path) -> None:
    """`--ca-key-out`: the CA key is written to removable media, never beside the server key;
    the server keeps serving and renewing needs the key plugged in again."""
    offline = tmp_path / "usb" / "konenut-ca.key"
    offline.parent.mkdir()
    paths = _init(tmp_path / "site", ca_key_out=offline)
    assert not paths.ca_key.exists() and _mode(offline) == 0o600
    assert load_tls_paths(tmp_path / "site").server_cert == paths.server_cert
    _cert(paths.server_cert).verify_directly_issued_by(_cert(paths.ca_cert))
    assert not _init(tmp_path / "site").server_issued  # current: no key needed
    with pytest.raises(TlsError, match="--ca-key-out"):
        _init(tmp_path / "site", force_server=True)
    assert _init(tmp_path / "site", force_server=True, ca_key_out=offline).server_issued
    assert not paths.ca_key.exists()


def test_ca_key_out_moves_an_online_key_away(tmp_path: Path, paths: TlsPaths) -> None:
    key_pem = paths.ca_key.read_bytes()
    offline = tmp_path / "usb.key"
    assert not _init(tmp_path, ca_key_out=offline).server_issued
    assert offline.read_bytes() == key_pem and not paths.ca_key.exists()


def test_tls_init_cli_takes_ca_key_out(tmp_path: Path) -> None:
    offline = tmp_path / "usb" / "ca.key"
    offline.parent.mkdir()
    data_dir = tmp_path / "site"
    args = ["tls", "init", "--data-dir", str(data_dir), "--hostname", "konenut.local"]
    result = run_konenut(*args, "--ca-key-out", str(offline))
    assert result.returncode == 0, result.stderr
    assert f"CA key: {offline}" in result.stdout and "offline" in result.stdout
    assert offline.is_file() and not (data_dir / "tls" / "ca.key").exists()


def test_server_cert_is_renewed_within_30_days_of_expiry(tmp_path: Path, paths: TlsPaths) -> None:
    assert not _init(tmp_path, now=T0 + timedelta(days=360)).server_issued
    renewed = _init(tmp_path, now=T0 + timedelta(days=370))
    assert renewed.server_issued
    assert _cert(paths.server_cert).not_valid_after_utc > T0 + timedelta(days=700)


def test_force_server_issues_a_new_cert(tmp_path: Path, paths: TlsPaths) -> None:
    old_serial = _cert(paths.server_cert).serial_number
    assert _init(tmp_path, force_server=True).server_issued
    assert _cert(paths.server_cert).serial_number != old_serial


def test_damaged_server_cert_is_replaced(tmp_path: Path, paths: TlsPaths) -> None:
    paths.server_cert.write_text("garbage")
    assert _init(tmp_path).server_issued
    _cert(paths.server_cert).verify_directly_issued_by(_cert(paths.ca_cert))


# --- clear errors ---------------------------------------------------------------------


def test_damaged_ca_key_is_a_clear_error_and_not_overwritten(
    tmp_path: Path, paths: TlsPaths
) -> None:
    paths.ca_key.write_text("not a key")
    with pytest.raises(TlsError, match=r"ca\.key is not a readable private key"):
        _init(tmp_path)
    assert paths.ca_key.read_text() == "not a key"


def test_missing_ca_cert_is_a_clear_error(tmp_path: Path, paths: TlsPaths) -> None:
    paths.ca_cert.unlink()
    with pytest.raises(TlsError, match=r"ca\.crt is missing"):
        _init(tmp_path)
    assert paths.ca_key.exists()


def test_mismatched_ca_pair_is_a_clear_error(tmp_path: Path, paths: TlsPaths) -> None:
    other = _init(tmp_path / "other")
    paths.ca_cert.write_bytes(other.ca_cert.read_bytes())
    with pytest.raises(TlsError, match="does not belong to"):
        _init(tmp_path)


def test_bad_ip_address_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TlsError, match="not an IP address"):
        _init(tmp_path, ip_addresses=["192.168.1.300"])


def test_naive_now_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _init(tmp_path, now=datetime(2025, 1, 1))


# --- client certificates --------------------------------------------------------------


def test_client_certificate_verifies_and_has_client_auth(tmp_path: Path, paths: TlsPaths) -> None:
    key_pem, cert_pem = issue_client_certificate(tmp_path, "ATAK phone 7", days=365)
    client = x509.load_pem_x509_certificate(cert_pem)
    client.verify_directly_issued_by(_cert(paths.ca_cert))
    eku = _ext(client, x509.ExtendedKeyUsage)
    assert isinstance(eku, x509.ExtendedKeyUsage)
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    common_name = client.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert common_name == "ATAK phone 7"
    assert key_pem.startswith(b"-----BEGIN PRIVATE KEY-----")


def test_client_certificate_never_outlives_the_ca(tmp_path: Path, paths: TlsPaths) -> None:
    _, cert_pem = issue_client_certificate(tmp_path, "long", days=50_000)
    client = x509.load_pem_x509_certificate(cert_pem)
    assert client.not_valid_after_utc <= _cert(paths.ca_cert).not_valid_after_utc


def test_client_certificate_without_ca_explains(tmp_path: Path) -> None:
    with pytest.raises(TlsError, match="konenut tls init"):
        issue_client_certificate(tmp_path, "x", days=1)


def test_client_certificate_rejects_bad_arguments(tmp_path: Path, paths: TlsPaths) -> None:
    with pytest.raises(ValueError, match="days"):
        issue_client_certificate(tmp_path, "x", days=0)
    with pytest.raises(ValueError, match="common_name"):
        issue_client_certificate(tmp_path, "  ", days=1)


# --- LAN address ----------------------------------------------------------------------


def test_default_lan_addresses_are_ip_addresses() -> None:
    addresses = default_lan_addresses()
    assert addresses
    for address in addresses:
        ipaddress.ip_address(address)


def test_default_lan_addresses_fall_back_to_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoRouteSocket(socket.socket):
        def connect(self, address: object) -> None:
            raise OSError("Network is unreachable")

    monkeypatch.setattr(socket, "socket", NoRouteSocket)
    assert default_lan_addresses() == ["127.0.0.1"]


# --- real TLS handshakes ----------------------------------------------------------------


@contextmanager
def _echo_server(context: ssl.SSLContext) -> Iterator[int]:
    """Serve TLS echo connections on 127.0.0.1 in a thread; yield the port."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except TimeoutError:
                continue
            raw.settimeout(SOCKET_TIMEOUT_S)
            try:
                with context.wrap_socket(raw, server_side=True) as conn:
                    conn.sendall(conn.recv(1024))
            except (ssl.SSLError, OSError):
                raw.close()  # the client refused us; that is what some tests expect

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(SOCKET_TIMEOUT_S)
        listener.close()


def _server_context(paths: TlsPaths) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(paths.server_cert, paths.server_key)
    return context


def _round_trip(port: int, context: ssl.SSLContext, server_hostname: str) -> bytes:
    address = ("127.0.0.1", port)
    with (
        socket.create_connection(address, timeout=SOCKET_TIMEOUT_S) as raw,
        context.wrap_socket(raw, server_hostname=server_hostname) as conn,
    ):
        conn.sendall(b"ping")
        return conn.recv(1024)


def _trusting_context(paths: TlsPaths) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(paths.ca_cert))
    context.verify_flags |= ssl.VERIFY_X509_STRICT  # the default from Python 3.13 on
    return context


@pytest.mark.parametrize("server_hostname", ["localhost", "127.0.0.1", "konenut.local"])
def test_tls_handshake_with_site_ca(live_paths: TlsPaths, server_hostname: str) -> None:
    with _echo_server(_server_context(live_paths)) as port:
        assert _round_trip(port, _trusting_context(live_paths), server_hostname) == b"ping"


def test_tls_handshake_without_site_ca_fails(live_paths: TlsPaths) -> None:
    untrusting = ssl.create_default_context()
    with (
        _echo_server(_server_context(live_paths)) as port,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        _round_trip(port, untrusting, "localhost")


def test_tls_handshake_with_unknown_hostname_fails(live_paths: TlsPaths) -> None:
    with (
        _echo_server(_server_context(live_paths)) as port,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        _round_trip(port, _trusting_context(live_paths), "elsewhere.example")


def test_a_stolen_ca_key_cannot_impersonate_another_site(
    tmp_path: Path, live_paths: TlsPaths
) -> None:
    """Signed with the site CA's own key, a certificate for another name is still refused by
    a phone that trusts the site CA: its name constraints hold in the TLS library."""
    ca_key = serialization.load_pem_private_key(live_paths.ca_key.read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca = _cert(live_paths.ca_cert)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    rogue = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bank.example")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("bank.example")]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    (tmp_path / "rogue.crt").write_bytes(rogue.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "rogue.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(tmp_path / "rogue.crt", tmp_path / "rogue.key")
    with (
        _echo_server(server_context) as port,
        pytest.raises(ssl.SSLCertVerificationError, match="subtree violation"),
    ):
        _round_trip(port, _trusting_context(live_paths), "bank.example")


def test_mutual_tls_with_client_certificate(tmp_path: Path, live_paths: TlsPaths) -> None:
    key_pem, cert_pem = issue_client_certificate(tmp_path / "live", "tak-client", days=30)
    (tmp_path / "client.key").write_bytes(key_pem)
    (tmp_path / "client.crt").write_bytes(cert_pem)
    server_context = _server_context(live_paths)
    server_context.verify_mode = ssl.CERT_REQUIRED
    server_context.load_verify_locations(cafile=str(live_paths.ca_cert))
    client_context = _trusting_context(live_paths)
    client_context.load_cert_chain(tmp_path / "client.crt", tmp_path / "client.key")
    with _echo_server(server_context) as port:
        assert _round_trip(port, client_context, "localhost") == b"ping"
