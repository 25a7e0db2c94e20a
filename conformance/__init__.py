"""Conformance suite for TikTok-compatible Content Posting API servers."""
