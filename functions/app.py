"""Patron's Chalice app: wiring only. Each blueprint is one event source or API area."""

from __future__ import annotations

from typing import Any

from chalice import Chalice

from chalicelib.handlers import (
    admin,
    analytics_api,
    campaigns_api,
    jobs,
    segments_api,
    streams,
    templates_api,
    unsubscribe_api,
    webhooks,
)
from chalicelib.handlers.http import logger, metrics

# Powertools owns the "patron" logger (JSON, correlation ids); Chalice must not reset it
# to ERROR, which would drop the security and quarantine warnings.
app = Chalice(app_name="patron", configure_logs=False)
app.register_blueprint(webhooks.bp)
app.register_blueprint(admin.bp)
app.register_blueprint(segments_api.bp)
app.register_blueprint(analytics_api.bp)
app.register_blueprint(templates_api.bp)
app.register_blueprint(unsubscribe_api.bp)
app.register_blueprint(campaigns_api.bp)
app.register_blueprint(streams.bp)
app.register_blueprint(jobs.bp)


@app.middleware("all")
def observability(event: Any, get_response: Any) -> Any:
    """Logger context and metrics flushing, attached once for every handler."""
    context = getattr(event, "context", None)
    if context is not None and hasattr(context, "aws_request_id"):
        logger.set_correlation_id(context.aws_request_id)
    try:
        return get_response(event)
    finally:
        if metrics.metric_set:
            metrics.flush_metrics()
        logger.remove_keys(["workspace_id", "customer_id", "order_id", "webhook_id"])
