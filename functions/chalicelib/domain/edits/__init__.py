"""A customer edited through the API or the CLI: the port of its store (ports.py)."""
