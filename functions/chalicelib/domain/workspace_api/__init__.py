"""The workspace through the Admin API: its API keys and its settings (docs/workspace-api.md);
its ports in ports.py (domain/ports.py is full)."""
