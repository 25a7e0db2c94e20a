"""Mutant: an inbox draft the creator has posted still counts as a pending share (ref 8:
"pending (not yet posted) shares")."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    from mock_server.domain.publishing import FAILED, MEDIA_UPLOAD, Publish

    def pending_share(self: Publish) -> bool:
        return self.mode == MEDIA_UPLOAD and self.status != FAILED

    Publish.pending_share = property(pending_share)  # type: ignore[method-assign,assignment]
