"""The `/_sandbox/` control API and dashboard: the sandbox's own surface, not TikTok's."""
