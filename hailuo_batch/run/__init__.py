"""Orchestration: the engine and its parts, downloads, and the wiring of one run."""
