"""Runtime seams: clock, journal and other things with side effects."""
