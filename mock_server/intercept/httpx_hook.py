"""The httpx side of interception: a respx router that answers claimed hosts from the sandbox.

respx patches httpcore, under every httpx client and transport that opens connections; the
router answers the sandbox's hosts itself, twin methods for sync and async, and hands every
other request to a catch-all route that passes it through or refuses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

import httpx
import respx

if TYPE_CHECKING:
    from mock_server.intercept import Interceptor


class HttpxHook(respx.MockRouter):
    def __init__(self, interceptor: Interceptor) -> None:
        super().__init__(assert_all_called=False, assert_all_mocked=True)
        self._interceptor = interceptor
        others = self.route()
        if interceptor.other_hosts == "refuse":
            others.mock(side_effect=self._refuse)
        else:
            others.pass_through()

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self._interceptor.claims(request.url):
            return self._interceptor.send(request)
        return super().handler(request)

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        if self._interceptor.claims(request.url):
            return await self._interceptor.send_async(request)
        return await super().async_handler(request)

    def _refuse(self, request: httpx.Request) -> NoReturn:
        raise self._interceptor.refusal(request.method, str(request.url))

    def stop(self, clear: bool = True, reset: bool = True, quiet: bool = False) -> None:
        super().stop(clear=clear, reset=reset, quiet=True)
