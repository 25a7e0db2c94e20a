"""Form tokens: proof that a form post comes from a page the sandbox served.

The consent page and the dashboard post HTML forms, which any web page could also post
cross-site. Each form carries a token, an HMAC of what the form is for under a key that never
leaves the process, so a page on another origin (which cannot read the sandbox's pages) cannot
make one. Tokens do not expire: the key changes with every sandbox.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

FIELD = "csrf_token"


class FormTokens:
    def __init__(self, secret: bytes | None = None, *, verify: bool = True) -> None:
        self._key = secret if secret is not None else secrets.token_bytes(32)
        self._verify = verify

    def issue(self, purpose: str, *bound: str) -> str:
        """The token for a form doing `purpose` with the values `bound` (e.g. its parameters)."""
        message = "\x1f".join((purpose, *bound)).encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def valid(self, token: str | None, purpose: str, *bound: str) -> bool:
        if not self._verify:
            return True
        if not token:
            return False
        expected = self.issue(purpose, *bound)
        return hmac.compare_digest(token.encode("utf-8", "surrogatepass"), expected.encode())
