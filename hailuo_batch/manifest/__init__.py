"""The front half: a manifest (YAML file or dict) in, a checked `Plan` out. Reads input files."""
