"""Site certificate authority and LAN server/client certificates (contracts §7)."""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TLS_DIR_NAME = "tls"
CA_KEY_NAME = "ca.key"
CA_CERT_NAME = "ca.crt"
SERVER_KEY_NAME = "server.key"
SERVER_CERT_NAME = "server.crt"

CA_VALIDITY_DAYS = 3652  # ten years, leap days included
# 397 days is the longest leaf-certificate lifetime Apple (iOS/macOS) and Chrome accept;
# a longer one is rejected by phones even when the CA is trusted.
SERVER_VALIDITY_DAYS = 397
SERVER_RENEW_BEFORE_DAYS = 30
# Backdate notBefore a little so a phone whose clock runs slow still accepts a fresh cert.
CLOCK_SKEW = timedelta(hours=1)

LOOPBACK_HOSTNAME = "localhost"
LOOPBACK_IP = "127.0.0.1"
# UDP connect() only selects a route; no packet is sent to this non-routable address.
ROUTE_PROBE_ADDRESS = ("10.255.255.255", 1)

# The CA's name constraints permit the LAN around each address it was made for: a server whose
# DHCP lease changes keeps its CA; a stolen CA key still cannot sign for anyone else's site.
PERMITTED_PREFIX_BITS = {4: 24, 6: 64}

PRIVATE_KEY_MODE = 0o600
CERT_MODE = 0o644
TLS_DIR_MODE = 0o700

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class TlsError(Exception):
    """A certificate file is missing, unreadable or inconsistent; the message says what to do."""


@dataclass(frozen=True)
class TlsPaths:
    """Where the site's TLS files live, and the CA fingerprint users compare on the phone."""

    tls_dir: Path
    ca_key: Path
    ca_cert: Path
    server_key: Path
    server_cert: Path
    ca_fingerprint_sha256: str
    ca_created: bool = False
    server_issued: bool = False


@dataclass(frozen=True)
class _Authority:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate


@dataclass(frozen=True)
class _SubjectNames:
    dns_names: frozenset[str]
    ip_addresses: frozenset[IpAddress]


def init_tls(
    data_dir: Path,
    site_name: str,
    hostnames: list[str],
    ip_addresses: list[str],
    now: datetime | None = None,
    *,
    force_server: bool = False,
    ca_key_out: Path | None = None,
) -> TlsPaths:
    """Create (or reuse) the site CA and make sure a current server certificate exists.

    The CA is never overwritten; it may sign only for the names it was created with (name
    constraints). A server certificate is (re)issued when it is missing, when the requested
    names differ from its SAN, when it expires within 30 days, when it was not issued by this
    CA, or when ``force_server`` is set. ``localhost`` and ``127.0.0.1`` are always included.
    With ``ca_key_out`` the CA's key lives there (removable media), not beside the server key:
    it is written there when the CA is created or moved there from the data dir, and read from
    there when a certificate must be issued.
    """
    at = _utc(now)
    paths = _paths(data_dir)
    paths.tls_dir.mkdir(parents=True, exist_ok=True, mode=TLS_DIR_MODE)
    key_path = ca_key_out or paths.ca_key
    names = _subject_names(hostnames, ip_addresses)
    ca_created = not _ca_exists(paths, key_path)
    if ca_created:
        _create_ca(paths, key_path, site_name, names, at)
    ca_cert = _read_certificate(paths.ca_cert)
    # A key at hand is checked now (damaged, or not this CA's); one kept offline only if needed.
    authority = _load_authority(paths.ca_cert, key_path) if key_path.exists() else None
    server_issued = force_server or not _server_cert_is_current(paths, ca_cert, names, at)
    if server_issued:
        _check_permitted(ca_cert, names)
        if authority is None:
            raise TlsError(
                f"The site CA's key is not at {key_path}, and a new server certificate needs "
                "it. If it is kept offline, plug it in and give its path with --ca-key-out PATH."
            )
        _issue_server(paths, authority, names, at)
    if key_path != paths.ca_key and paths.ca_key.exists():
        _move_key_offline(paths, key_path)
    return _with_status(paths, ca_cert, ca_created, server_issued)


def load_tls_paths(data_dir: Path) -> TlsPaths:
    """Return the existing TLS files of a data dir, or raise if `konenut tls init` never ran."""
    paths = _paths(data_dir)
    for required in (paths.ca_cert, paths.server_cert, paths.server_key):
        if not required.is_file():
            raise TlsError(f"{required} is missing. Run `konenut tls init` to create it.")
    return _with_status(paths, _read_certificate(paths.ca_cert), False, False)


def issue_client_certificate(
    data_dir: Path, common_name: str, days: int, now: datetime | None = None
) -> tuple[bytes, bytes]:
    """Issue a client certificate (clientAuth, e.g. for TAK clients) signed by the site CA.

    Returns ``(key_pem, cert_pem)``. The validity never extends past the CA's own expiry.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    if not common_name.strip():
        raise ValueError("common_name must not be empty")
    paths = _paths(data_dir)
    if not _ca_exists(paths, paths.ca_key):
        raise TlsError(f"No site CA in {paths.tls_dir}. Run `konenut tls init` first.")
    authority = _load_authority(paths.ca_cert, paths.ca_key)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _build_client_cert(authority, key, common_name, days, _utc(now))
    return _private_key_pem(key), cert.public_bytes(serialization.Encoding.PEM)


def default_lan_addresses() -> list[str]:
    """Best-effort IP of this machine on the LAN (the default route's source address)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(ROUTE_PROBE_ADDRESS)
            address = str(probe.getsockname()[0])
    except OSError:
        return [LOOPBACK_IP]
    ip = _try_ip(address)
    if ip is None or ip.is_unspecified or ip.is_loopback:
        return [LOOPBACK_IP]
    return [address]


def certificate_fingerprint_sha256(cert: x509.Certificate) -> str:
    """SHA-256 fingerprint as upper-case colon-separated hex, as phones display it."""
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


# --- paths and state -------------------------------------------------------------------


def _paths(data_dir: Path) -> TlsPaths:
    tls_dir = Path(data_dir) / TLS_DIR_NAME
    return TlsPaths(
        tls_dir=tls_dir,
        ca_key=tls_dir / CA_KEY_NAME,
        ca_cert=tls_dir / CA_CERT_NAME,
        server_key=tls_dir / SERVER_KEY_NAME,
        server_cert=tls_dir / SERVER_CERT_NAME,
        ca_fingerprint_sha256="",
    )


def _with_status(
    paths: TlsPaths, ca_cert: x509.Certificate, ca_created: bool, server_issued: bool
) -> TlsPaths:
    return TlsPaths(
        tls_dir=paths.tls_dir,
        ca_key=paths.ca_key,
        ca_cert=paths.ca_cert,
        server_key=paths.server_key,
        server_cert=paths.server_cert,
        ca_fingerprint_sha256=certificate_fingerprint_sha256(ca_cert),
        ca_created=ca_created,
        server_issued=server_issued,
    )


def _ca_exists(paths: TlsPaths, key_path: Path) -> bool:
    """Whether the site CA exists; its key may be kept elsewhere (offline), its cert may not."""
    if paths.ca_cert.exists():
        return True
    for key in {paths.ca_key, key_path}:
        if key.exists():
            raise TlsError(
                f"{key} exists but {paths.ca_cert} is missing, so the site CA is incomplete. "
                f"Restore {paths.ca_cert.name} from a backup, or move {key} and "
                f"{paths.tls_dir} aside to create a new CA (every phone must then trust the "
                "new CA again)."
            )
    return False


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (e.g. datetime.now(UTC))")
    return now.astimezone(UTC)


def _subject_names(hostnames: list[str], ip_addresses: list[str]) -> _SubjectNames:
    dns_names = {LOOPBACK_HOSTNAME}
    ips: set[IpAddress] = {ipaddress.ip_address(LOOPBACK_IP)}
    for hostname in hostnames:
        as_ip = _try_ip(hostname)
        if as_ip is None:
            dns_names.add(_dns_name(hostname))
        else:
            ips.add(as_ip)
    for text in ip_addresses:
        ip = _try_ip(text)
        if ip is None:
            raise TlsError(f"{text!r} is not an IP address (expected e.g. 192.168.1.20).")
        ips.add(ip)
    return _SubjectNames(frozenset(dns_names), frozenset(ips))


def _try_ip(text: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _dns_name(hostname: str) -> str:
    name = hostname.strip().rstrip(".").lower()
    if not name:
        raise TlsError("A hostname is empty; give names like konenut.local.")
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise TlsError(f"{hostname!r} is not a valid hostname: {error}") from error


# --- reading files ---------------------------------------------------------------------


def _load_authority(cert_path: Path, key_path: Path) -> _Authority:
    key = _read_ec_private_key(key_path)
    cert = _read_certificate(cert_path)
    if cert.public_key() != key.public_key():
        raise TlsError(
            f"{key_path} does not belong to {cert_path}. Restore the matching pair "
            f"from a backup, or move {cert_path.parent} aside to create a new CA."
        )
    return _Authority(key=key, cert=cert)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise TlsError(
            f"Cannot read {path}: {error.strerror or error}. Check that the file exists and "
            "that konenut runs as the user who owns the data directory."
        ) from error


def _read_ec_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(_read_bytes(path), password=None)
    except (ValueError, TypeError) as error:
        raise TlsError(
            f"{path} is not a readable private key (expected an unencrypted PEM key written "
            "by `konenut tls init`). It may be damaged or password-protected; restore it "
            "from a backup."
        ) from error
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TlsError(f"{path} holds a {type(key).__name__}; konenut expects an EC key.")
    return key


def _read_certificate(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(_read_bytes(path))
    except ValueError as error:
        raise TlsError(
            f"{path} is not a readable PEM certificate; it may be damaged. "
            "Restore it from a backup."
        ) from error


def _server_cert_is_current(
    paths: TlsPaths, ca_cert: x509.Certificate, names: _SubjectNames, at: datetime
) -> bool:
    if not (paths.server_cert.is_file() and paths.server_key.is_file()):
        return False
    try:
        cert = _read_certificate(paths.server_cert)
        key = _read_ec_private_key(paths.server_key)
    except TlsError:
        return False  # a damaged server cert or key is simply replaced
    return (
        _is_issued_by(cert, ca_cert)
        and cert.public_key() == key.public_key()
        and _san_names(cert) == names
        and cert.not_valid_after_utc - at > timedelta(days=SERVER_RENEW_BEFORE_DAYS)
    )


def _is_issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _san_names(cert: x509.Certificate) -> _SubjectNames:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return _SubjectNames(frozenset(), frozenset())
    ips = san.get_values_for_type(x509.IPAddress)
    return _SubjectNames(
        frozenset(san.get_values_for_type(x509.DNSName)),
        frozenset(ip for ip in ips if isinstance(ip, IpAddress)),
    )


# --- building certificates -------------------------------------------------------------


def _create_ca(
    paths: TlsPaths, key_path: Path, site_name: str, names: _SubjectNames, at: datetime
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _build_ca_cert(key, site_name, names, at)
    _write_file(key_path, _private_key_pem(key), PRIVATE_KEY_MODE)
    _write_file(paths.ca_cert, cert.public_bytes(serialization.Encoding.PEM), CERT_MODE)


def _move_key_offline(paths: TlsPaths, key_path: Path) -> None:
    """The CA key from the data dir to `key_path`, then gone from the data dir."""
    key_pem = _read_bytes(paths.ca_key)
    if key_path.exists() and _read_bytes(key_path) != key_pem:
        raise TlsError(
            f"{key_path} already holds another key; give a new path to move {paths.ca_key} to."
        )
    _write_file(key_path, key_pem, PRIVATE_KEY_MODE)
    paths.ca_key.unlink()


def _issue_server(
    paths: TlsPaths, authority: _Authority, names: _SubjectNames, at: datetime
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _build_server_cert(authority, key, names, at)
    _write_file(paths.server_key, _private_key_pem(key), PRIVATE_KEY_MODE)
    _write_file(paths.server_cert, cert.public_bytes(serialization.Encoding.PEM), CERT_MODE)


def _build_ca_cert(
    key: ec.EllipticCurvePrivateKey, site_name: str, names: _SubjectNames, at: datetime
) -> x509.Certificate:
    name = _common_name(f"Konenut {site_name.strip() or 'site'} CA")
    not_before = at - CLOCK_SKEW
    public_key = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=CA_VALIDITY_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True), critical=True)
        .add_extension(_name_constraints(names), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )


def _name_constraints(names: _SubjectNames) -> x509.NameConstraints:
    """The CA signs only for the site's own names (and their subdomains) and addresses: a
    stolen CA key cannot impersonate any other site to a phone that trusts it."""
    permitted: list[x509.GeneralName] = [x509.DNSName(name) for name in sorted(names.dns_names)]
    permitted += [x509.IPAddress(_subnet(ip)) for ip in _sorted_ips(names)]
    return x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=None)


def _check_permitted(ca_cert: x509.Certificate, names: _SubjectNames) -> None:
    """Refuse, before signing, names outside the CA's name constraints (a CA made before
    constraints existed has none and may sign anything)."""
    try:
        constraints = ca_cert.extensions.get_extension_for_class(x509.NameConstraints).value
    except x509.ExtensionNotFound:
        return
    subtrees = constraints.permitted_subtrees or []
    domains = [t.value for t in subtrees if isinstance(t, x509.DNSName)]
    networks = [t.value for t in subtrees if isinstance(t.value, IpNetwork)]
    outside = [n for n in names.dns_names if not any(_within(n, d) for d in domains)]
    outside += [str(ip) for ip in names.ip_addresses if not any(ip in n for n in networks)]
    if outside:
        permitted = [*domains, *map(str, networks)]
        raise TlsError(
            f"The site CA may sign only for {', '.join(permitted)}, not "
            f"{', '.join(sorted(outside))}. Move {CA_CERT_NAME} (and its key) aside and run "
            "`konenut tls init` with every name to create a new CA; every phone must then "
            "trust the new CA again."
        )


def _subnet(ip: IpAddress) -> IpNetwork:
    return ipaddress.ip_network(f"{ip}/{PERMITTED_PREFIX_BITS[ip.version]}", strict=False)


def _within(name: str, domain: str) -> bool:
    return name == domain or name.endswith(f".{domain}")


def _sorted_ips(names: _SubjectNames) -> list[IpAddress]:
    return sorted(names.ip_addresses, key=lambda ip: (ip.version, int(ip)))


def _build_server_cert(
    authority: _Authority,
    key: ec.EllipticCurvePrivateKey,
    names: _SubjectNames,
    at: datetime,
) -> x509.Certificate:
    dns_names = sorted(names.dns_names)
    ips = _sorted_ips(names)
    alt_names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    alt_names += [x509.IPAddress(ip) for ip in ips]
    builder = _leaf_builder(authority, key, _common_name(dns_names[0]), at, SERVER_VALIDITY_DAYS)
    return (
        builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(authority.key, hashes.SHA256())
    )


def _build_client_cert(
    authority: _Authority,
    key: ec.EllipticCurvePrivateKey,
    common_name: str,
    days: int,
    at: datetime,
) -> x509.Certificate:
    builder = _leaf_builder(authority, key, _common_name(common_name.strip()), at, days)
    return builder.add_extension(
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
    ).sign(authority.key, hashes.SHA256())


def _leaf_builder(
    authority: _Authority,
    key: ec.EllipticCurvePrivateKey,
    subject: x509.Name,
    at: datetime,
    validity_days: int,
) -> x509.CertificateBuilder:
    """Start a certificate the CA issues: names, validity, constraints, key identifiers."""
    not_before = at - CLOCK_SKEW
    not_after = min(not_before + timedelta(days=validity_days), authority.cert.not_valid_after_utc)
    leaf_key_id = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    ca_key_id = x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key())
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(authority.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(leaf_key_id, critical=False)
        .add_extension(ca_key_id, critical=False)
    )


def _common_name(value: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, value[:64])])


def _key_usage(digital_signature: bool = False, key_cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=key_cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


# --- writing files ---------------------------------------------------------------------


def _private_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_file(path: Path, content: bytes, mode: int) -> None:
    """Write atomically; the file has ``mode`` from its first byte (keys are never 0644)."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), mode)  # the umask may have removed bits
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise TlsError(
            f"Cannot write {path}: {error.strerror or error}. Check that the data directory "
            "is writable by the user running konenut."
        ) from error
