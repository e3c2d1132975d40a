"""Chalice blueprints: thin handlers that validate input, call one service, dump a model.

Every Lambda function loads every handler module (app.py registers all blueprints), so a
handler imports at module level only what all of them already load (chalice, powertools'
logger, pydantic, `domain.errors`, `domain.timemath`, the container). Its domain modules
and heavier utilities are imported inside the function that uses them: the functions that
never call it do not pay for them at cold start (a domain module costs 10-200 ms there).
"""
