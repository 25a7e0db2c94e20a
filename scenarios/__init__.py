"""Scenario files shipped with tiktok-sandbox (`default.yaml` is the embedded default)."""
