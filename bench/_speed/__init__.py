"""Parts of `bench/speed.py` (issue 17's figures)."""
