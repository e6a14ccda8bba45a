"""Test helpers, importable from any test: the CLI as a user types it, a simulator in a
thread, an engine on a fake server and a manual clock."""
