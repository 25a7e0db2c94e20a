"""What the sync and async clients share besides the flows: configuration and the parts of
the surface that do no I/O."""

from __future__ import annotations

from collections.abc import Iterable

from client.chunks import DEFAULT_CHUNK_SIZE
from client.flows import ClientCore, OnRetry
from client.oauth import AUTHORIZE_BASE, AuthorizationRequest, ChallengeForm, authorize_url
from client.protocol import API_BASE
from client.tokens import MemoryTokenStore, Now, Token, TokenStore, wall_clock

REFRESH_MARGIN = 300.0  # refresh an access token that lapses within 5 minutes


class ClientBase:
    def __init__(
        self,
        client_key: str | None = None,
        client_secret: str | None = None,
        *,
        token_store: TokenStore | None = None,
        token: Token | None = None,
        access_token: str | None = None,
        base_url: str = API_BASE,
        now: Now = wall_clock,
        refresh_margin: float = REFRESH_MARGIN,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        on_retry: OnRetry | None = None,
    ) -> None:
        if token_store is None:
            if token is None and access_token is not None:
                token = Token.bare(access_token)
            token_store = MemoryTokenStore(token)
        self.core = ClientCore(
            client_key=client_key,
            client_secret=client_secret,
            token_store=token_store,
            base_url=base_url,
            now=now,
            refresh_margin=refresh_margin,
            chunk_size=chunk_size,
            on_retry=on_retry,
        )

    @property
    def token(self) -> Token | None:
        """The current token, as the store holds it."""
        return self.core.token_store.load()

    def authorize_url(
        self,
        redirect_uri: str,
        scopes: Iterable[str],
        *,
        state: str | None = None,
        pkce: bool = True,
        challenge_form: ChallengeForm = "hex",
        authorize_base: str = AUTHORIZE_BASE,
    ) -> AuthorizationRequest:
        """The authorize URL for this app (ref 2.1); keep the answer for the redirect."""
        if not self.core.client_key:
            raise ValueError("client_key is needed to build the authorize URL")
        return authorize_url(
            self.core.client_key,
            redirect_uri,
            scopes,
            state=state,
            pkce=pkce,
            challenge_form=challenge_form,
            base_url=authorize_base,
        )
