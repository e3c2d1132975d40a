"""Patron Lambda code: domain core, adapters and Chalice blueprints."""
