"""What the sandbox tells users about its front doors: the lines that trust the local CA in each
language, the proxy settings, the hosts-file lines, and the start-up summary's section. One
table of environment lines serves `tiktok-sandbox ca`, `serve`'s summary and the docs' examples.
"""

from __future__ import annotations

from mock_server.domain.hosts import TIKTOK_HOSTS
from mock_server.frontdoor.ca import PERMITTED_NAMES, PERMITTED_NETWORKS, LocalCA
from mock_server.frontdoor.door import FrontDoor

DOCS = "docs/https-and-proxy.md"
NO_PROXY = "localhost,127.0.0.1,::1"


def trust_lines(ca: LocalCA, proxy_url: str | None = None) -> list[tuple[str, str]]:
    """(who, line) pairs that make an app trust the sandbox (and use its proxy, if given)."""
    cert, bundle = ca.cert_path, ca.bundle_path
    proxy = proxy_url or "http://127.0.0.1:PORT"
    lines = []
    if proxy_url:
        lines.append(("any app", f"export HTTPS_PROXY={proxy_url} NO_PROXY={NO_PROXY}"))
    lines += [
        ("Python", f"export SSL_CERT_FILE={bundle} REQUESTS_CA_BUNDLE={bundle}"),
        ("Node", f"export NODE_EXTRA_CA_CERTS={cert}"),
    ]
    if proxy_url:
        lines.append(
            (
                "Node proxy",
                "export NODE_USE_ENV_PROXY=1  (Node 24+; older: undici's "
                "EnvHttpProxyAgent as the global dispatcher)",
            )
        )
    lines += [
        ("Go", f"export SSL_CERT_FILE={bundle}"),
        ("Ruby", f"export SSL_CERT_FILE={bundle}"),
        ("PHP", f"php -d curl.cainfo={bundle} -d openssl.cafile={bundle} app.php"),
        (
            "curl",
            f"curl --proxy {proxy} --cacert {cert} https://open.tiktokapis.com/..."
            if proxy_url
            else f"curl --cacert {cert} https://open.tiktokapis.com/...",
        ),
        (
            "Chromium",
            (f"chromium --proxy-server={proxy_url} " if proxy_url else "chromium ")
            + f"--ignore-certificate-errors-spki-list={ca.spki_sha256()} "
            "--user-data-dir=$(mktemp -d)",
        ),
    ]
    return lines


def _rows(lines: list[tuple[str, str]], indent: str = "  ") -> str:
    width = max(len(who) for who, _ in lines)
    return "\n".join(f"{indent}{who.ljust(width)}  {line}" for who, line in lines)


def ca_text(ca: LocalCA) -> str:
    """`tiktok-sandbox ca`: where the CA is, what it vouches for, how each language trusts it."""
    scope = ", ".join((*PERMITTED_NAMES, *PERMITTED_NETWORKS))
    return (
        "tiktok-sandbox local certificate authority\n\n"
        f"  certificate  {ca.cert_path}\n"
        f"  bundle       {ca.bundle_path}\n"
        "               (this machine's public CAs plus the sandbox's: for variables such as\n"
        "               SSL_CERT_FILE that replace a client's whole trust store)\n"
        f"  private key  {ca.key_path}  (owner only; never share it)\n"
        f"  SPKI sha256  {ca.spki_sha256()}\n"
        f"  vouches for  {scope} (name-constrained: nothing else)\n\n"
        "Trust it in the app's environment (nothing is added to the system's trust store):\n\n"
        f"{_rows(trust_lines(ca))}\n\n"
        "Then either run the app through the proxy (tiktok-sandbox serve --proxy):\n\n"
        f"  export HTTPS_PROXY=http://127.0.0.1:8080 NO_PROXY={NO_PROXY}\n\n"
        "or send TikTok's names to the sandbox (tiktok-sandbox serve --https --port 443) with\n"
        "the lines `tiktok-sandbox hosts` prints. Details, Docker, and adding the CA to a\n"
        f"system or browser store on purpose: {DOCS}\n"
    )


def hosts_text(address: str) -> str:
    """`tiktok-sandbox hosts`: lines for /etc/hosts, and docker's equivalent as a comment."""
    return (
        "# tiktok-sandbox: TikTok's names -> the sandbox (serve --https --port 443)\n"
        f"{address} {' '.join(TIKTOK_HOSTS)}\n"
        "# docker run flags (the sandbox listening where containers reach it, e.g.\n"
        "# serve --https --host 0.0.0.0 --port 443):\n"
        f"# {docker_flags('host-gateway')}\n"
    )


def docker_flags(address: str) -> str:
    return " ".join(f"--add-host {host}:{address}" for host in TIKTOK_HOSTS)


def summary(door: FrontDoor, host: str, port: int, ca: LocalCA | None) -> str:
    """The start-up summary's section on running an unmodified app."""
    if door.plain_only or ca is None:
        return (
            "  unmodified apps (calling https://open.tiktokapis.com themselves): restart with\n"
            "                 --proxy (HTTPS_PROXY) or --https (TikTok's names resolved here)\n"
        )
    local = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    local = f"[{local}]" if ":" in local else local
    modes = []
    if door.proxy:
        modes.append(
            f"  proxy mode       this port is an HTTPS proxy for {', '.join(TIKTOK_HOSTS)}\n"
            "                   only (every other host is refused): set HTTPS_PROXY as below\n"
        )
    if door.https:
        caveat = "" if port == 443 else f" (unmodified apps need --port 443, not {port})"
        modes.append(
            f"  name resolution  send TikTok's names here with `tiktok-sandbox hosts`{caveat}\n"
        )
    proxy_url = f"http://{local}:{port}" if door.proxy else None
    return (
        "\nUnmodified apps (calling https://open.tiktokapis.com themselves):\n"
        + "".join(modes)
        + "\nIn the app's environment:\n"
        + _rows(trust_lines(ca, proxy_url))
        + f"\n\nMore: tiktok-sandbox ca, {DOCS}\n"
    )
