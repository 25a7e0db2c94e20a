"""Loads the suite's plugin when pytest collects `conformance/`."""

from conformance.plugin import *  # noqa: F403 - hooks and fixtures
