"""The sandbox's local certificate authority: made once on first use, kept in the user's data
directory, and trusted once by the user; it signs the leaf certificate the server presents.

The CA is name-constrained to TikTok's emulated host names, `localhost` and the loopback
addresses: a client that trusts it trusts it for nothing else, even if its key were copied.

    ca = LocalCA.load_or_create()      # $TIKTOK_SANDBOX_HOME or the user data directory
    ca.cert_path                       # the PEM file users trust
    cert_pem, key_pem = ca.issue_leaf(["open.tiktokapis.com"], ["127.0.0.1"])
"""

from __future__ import annotations

import base64
import contextlib
import getpass
import hashlib
import ipaddress
import os
import socket
import ssl
import tempfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # cryptography is imported when a CA is loaded or made, not at start-up
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

from mock_server.domain.hosts import TIKTOK_HOSTS

HOME_ENV = "TIKTOK_SANDBOX_HOME"
CA_CERT = "ca.pem"
CA_KEY = "ca-key.pem"
BUNDLE = "bundle.pem"

# What the CA may vouch for (RFC 5280 name constraints): TikTok's names, localhost, loopback.
PERMITTED_NAMES: tuple[str, ...] = ("localhost", *TIKTOK_HOSTS)
PERMITTED_NETWORKS: tuple[str, ...] = ("127.0.0.0/8", "::1/128")

CA_LIFETIME = timedelta(days=3650)
# Under the 825 days Apple's platforms accept for a server certificate, whoever its issuer.
LEAF_LIFETIME = timedelta(days=397)
BACKDATE = timedelta(hours=1)  # tolerate clients whose clock is a little behind


class LocalCAError(Exception):
    """The CA directory cannot be used (unreadable, half-written, or a key that does not match);
    the message says what to do."""


def home() -> Path:
    """Where the CA lives: $TIKTOK_SANDBOX_HOME, else the user data directory (platformdirs)."""
    configured = os.environ.get(HOME_ENV)
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("tiktok-sandbox", appauthor=False))


def _now() -> datetime:
    # Certificates are checked by clients against their real clocks, never the sandbox's.
    return datetime.now(UTC)


class LocalCA:
    def __init__(self, directory: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey):
        self.directory = directory
        self.cert = cert
        self.key = key

    @property
    def cert_path(self) -> Path:
        return self.directory / CA_CERT

    @property
    def key_path(self) -> Path:
        return self.directory / CA_KEY

    @property
    def bundle_path(self) -> Path:
        return self.directory / BUNDLE

    @classmethod
    def load_or_create(cls, directory: Path | None = None) -> LocalCA:
        """The CA in `directory` (default `home()`), made there first if there is none."""
        directory = directory or home()
        try:
            directory.mkdir(parents=True, exist_ok=True)
            with _exclusive(directory / ".lock"):
                if not (directory / CA_CERT).exists() and not (directory / CA_KEY).exists():
                    _write_new_ca(directory)
                return cls._load(directory)
        except OSError as exc:
            raise LocalCAError(
                f"cannot use the CA directory {directory}: {exc.strerror or exc} "
                f"(set {HOME_ENV} to a writable directory)"
            ) from exc

    @classmethod
    def _load(cls, directory: Path) -> LocalCA:
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        cert_path, key_path = directory / CA_CERT, directory / CA_KEY
        if not cert_path.exists() or not key_path.exists():
            missing = cert_path if not cert_path.exists() else key_path
            raise LocalCAError(
                f"the CA in {directory} is incomplete ({missing.name} is missing): remove "
                f"{cert_path.name} and {key_path.name} to make a new CA, then trust it again"
            )
        if key_path.stat().st_mode & 0o077:
            key_path.chmod(0o600)  # a private key is for its owner only
        try:
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        except ValueError as exc:
            raise LocalCAError(f"the CA in {directory} cannot be read: {exc}") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey) or _spki(key.public_key()) != _spki(
            cert.public_key()
        ):
            raise LocalCAError(
                f"{key_path} is not the key of {cert_path}: remove both to make a new CA"
            )
        return cls(directory, cert, key)

    def issue_leaf(
        self, dns_names: Sequence[str], ip_addresses: Sequence[str]
    ) -> tuple[bytes, bytes]:
        """A server certificate for these names, signed by the CA: (PEM chain leaf + CA, PEM
        private key). Leaves are cheap and live in memory; only the CA is kept on disk."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        names: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
        names += [x509.IPAddress(ipaddress.ip_address(a)) for a in ip_addresses]
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_names[0])]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + LEAF_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(digital_signature=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                    self.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
                ),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )
        chain = cert.public_bytes(serialization.Encoding.PEM) + self.cert_pem()
        return chain, _key_pem(key)

    def cert_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self.cert.public_bytes(serialization.Encoding.PEM)

    def spki_sha256(self) -> str:
        """The base64 SHA-256 of the CA's public key, as Chromium's
        `--ignore-certificate-errors-spki-list` takes it."""
        return base64.b64encode(hashlib.sha256(_spki(self.cert.public_key())).digest()).decode()

    def write_bundle(self) -> Path:
        """Write `bundle.pem`: the public CAs this machine trusts plus the sandbox's CA, for
        variables such as SSL_CERT_FILE that replace a client's whole trust store."""
        source = public_bundle()
        public = source.read_bytes() if source else b""
        body = public.rstrip(b"\n") + b"\n\n# tiktok-sandbox local CA\n" + self.cert_pem()
        _write_atomically(self.bundle_path, body.lstrip(b"\n"), mode=0o644)
        return self.bundle_path


def public_bundle() -> Path | None:
    """The public CA bundle to extend: OpenSSL's own default file (not SSL_CERT_FILE, which may
    already point at the sandbox's bundle), else certifi's."""
    compiled = Path(ssl.get_default_verify_paths().openssl_cafile)
    if compiled.is_file():
        return compiled
    try:
        import certifi
    except ImportError:
        return None
    return Path(certifi.where())


def _write_new_ca(directory: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tiktok-sandbox"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, _owner()),
            x509.NameAttribute(NameOID.COMMON_NAME, "tiktok-sandbox local CA"),
        ]
    )
    permitted: list[x509.GeneralName] = [x509.DNSName(n) for n in PERMITTED_NAMES]
    permitted += [x509.IPAddress(ipaddress.ip_network(n)) for n in PERMITTED_NETWORKS]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(
            x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=None),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    # The key first: a certificate without its key is reported, never silently replaced.
    _write_atomically(directory / CA_KEY, _key_pem(key), mode=0o600)
    _write_atomically(directory / CA_CERT, cert.public_bytes(serialization.Encoding.PEM), 0o644)


def _key_usage(
    *, digital_signature: bool = False, key_cert_sign: bool = False, crl_sign: bool = False
) -> x509.KeyUsage:
    from cryptography import x509

    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _spki(public_key: object) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _owner() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (e.g. a container's arbitrary user)
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    return f"{user}@{socket.gethostname()}"


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    """Replace `path` with `data` in one step, created with `mode` (never wider, whatever the
    umask), so no reader ever sees half a file and no key is ever readable by others."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock so two processes starting at once make one CA, not two."""
    with open(lock_path, "a+b") as lock:
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; a race there makes two CAs, one wins
            yield
            return
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
