"""The engine in parts: lifecycle and supervision, lanes, submitter, follower, downloads,
the recorder, and the wiring and planning of one run."""
