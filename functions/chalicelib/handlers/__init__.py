"""Chalice blueprints: thin handlers that validate input, call one service, dump a model."""
