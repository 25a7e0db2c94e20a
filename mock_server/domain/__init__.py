"""The pure domain: TikTok's entities and rules. No Starlette, no I/O, no wall clock."""
