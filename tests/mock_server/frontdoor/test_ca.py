"""The local CA: made once, kept with a private key only its owner reads, name-constrained, and
signing leaves that clients verify for each name the sandbox answers to."""

from __future__ import annotations

import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509

from mock_server.frontdoor.ca import HOME_ENV, LocalCA, LocalCAError, home, public_bundle
from mock_server.frontdoor.tls import LEAF_ADDRESSES, LEAF_NAMES, server_context


def handshake(server: ssl.SSLContext, client: ssl.SSLContext, server_hostname: str) -> str:
    """A TLS handshake in memory; returns the ALPN protocol the two agreed on."""
    client_in, client_out, server_in, server_out = (ssl.MemoryBIO() for _ in range(4))
    client_side = client.wrap_bio(client_in, client_out, server_hostname=server_hostname)
    server_side = server.wrap_bio(server_in, server_out, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(10):
        for name, side in (("client", client_side), ("server", server_side)):
            if done[name]:
                continue
            try:
                side.do_handshake()
                done[name] = True
            except ssl.SSLWantReadError:
                pass
        server_in.write(client_out.read())
        client_in.write(server_out.read())
        if all(done.values()):
            return client_side.selected_alpn_protocol() or ""
    raise AssertionError("the handshake did not finish")


def client_context(ca: LocalCA) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca.cert_path))
    context.set_alpn_protocols(["h2", "http/1.1"])
    return context


@pytest.fixture
def ca(tmp_path: Path) -> LocalCA:
    return LocalCA.load_or_create(tmp_path / "home")


def test_the_ca_is_made_once_and_its_key_is_the_owners_only(tmp_path: Path) -> None:
    directory = tmp_path / "home"
    first = LocalCA.load_or_create(directory)
    assert first.cert_path == directory / "ca.pem"
    assert stat.S_IMODE(first.key_path.stat().st_mode) == 0o600
    assert first.cert_path.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")

    again = LocalCA.load_or_create(directory)
    assert again.cert == first.cert  # the same CA: users trust it once
    assert again.spki_sha256() == first.spki_sha256()


def test_a_key_left_readable_by_others_is_made_private_again(ca: LocalCA) -> None:
    ca.key_path.chmod(0o644)
    LocalCA.load_or_create(ca.directory)
    assert stat.S_IMODE(ca.key_path.stat().st_mode) == 0o600


def test_home_is_the_environment_override_else_the_user_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "elsewhere"))
    assert home() == tmp_path / "elsewhere"
    monkeypatch.delenv(HOME_ENV)
    assert home().name == "tiktok-sandbox"  # platformdirs' data directory, never created here


def test_the_ca_vouches_only_for_tiktoks_names_localhost_and_loopback(ca: LocalCA) -> None:
    constraints = ca.cert.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical
    permitted = {str(name.value) for name in constraints.value.permitted_subtrees or []}
    assert permitted == {
        "open.tiktokapis.com",
        "www.tiktok.com",
        "open-upload.tiktokapis.com",
        "localhost",
        "127.0.0.0/8",
        "::1/128",
    }
    basic = ca.cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert basic.ca and basic.path_length == 0


@pytest.mark.parametrize("name", [*LEAF_NAMES, *LEAF_ADDRESSES])
def test_clients_trusting_the_ca_verify_the_leaf_for_every_name(ca: LocalCA, name: str) -> None:
    assert handshake(server_context(ca), client_context(ca), name) == "http/1.1"


def test_a_name_outside_the_leaf_fails_verification(ca: LocalCA) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match="match"):
        handshake(server_context(ca), client_context(ca), "example.com")


def test_a_leaf_the_ca_signs_for_another_name_is_refused_by_its_constraints(ca: LocalCA) -> None:
    chain, key = ca.issue_leaf(["example.com"], [])
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    (ca.directory / "leaf.pem").write_bytes(chain)
    (ca.directory / "leaf-key.pem").write_bytes(key)
    server.load_cert_chain(ca.directory / "leaf.pem", ca.directory / "leaf-key.pem")
    with pytest.raises(ssl.SSLCertVerificationError, match=r"(?i)name constraint|permitted"):
        handshake(server, client_context(ca), "example.com")


def test_a_client_that_does_not_trust_the_ca_refuses_the_leaf(ca: LocalCA) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(server_context(ca), ssl.create_default_context(), "open.tiktokapis.com")


def test_a_certificate_without_its_key_is_reported_never_replaced(ca: LocalCA) -> None:
    ca.key_path.unlink()
    with pytest.raises(LocalCAError, match=r"incomplete .*ca-key\.pem is missing"):
        LocalCA.load_or_create(ca.directory)
    assert ca.cert_path.exists()


def test_a_key_that_is_not_the_certificates_is_reported(ca: LocalCA, tmp_path: Path) -> None:
    other = LocalCA.load_or_create(tmp_path / "other")
    ca.key_path.write_bytes(other.key_path.read_bytes())
    with pytest.raises(LocalCAError, match="is not the key of"):
        LocalCA.load_or_create(ca.directory)


def test_an_unwritable_home_says_so(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(LocalCAError, match=rf"cannot use the CA directory .*{HOME_ENV}"):
        LocalCA.load_or_create(blocker / "home")


def test_the_bundle_is_the_public_cas_plus_the_sandboxs_and_never_grows(
    ca: LocalCA, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = public_bundle()
    assert source is not None
    bundle = ca.write_bundle()
    text = bundle.read_bytes()
    assert text.startswith(source.read_bytes().lstrip(b"\n")[:64])
    assert text.endswith(ca.cert_pem())
    # Pointed at by SSL_CERT_FILE, as the instructions say, it is still rebuilt from the
    # machine's own store, not from itself.
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    assert ca.write_bundle().read_bytes() == text
    public = ssl.create_default_context(cafile=str(bundle))
    assert len(public.get_ca_certs()) > 1
