"""Journeys: the CLI as a user lives it, against real files written in a temporary folder."""
