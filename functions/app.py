"""Patron's Chalice app: wiring only. Each blueprint is one event source or API area."""

from __future__ import annotations

from typing import Any

from chalice import Chalice

from chalicelib.handlers import (
    admin,
    analytics_api,
    campaigns_api,
    console_api,
    csat_api,
    customer_edits_api,
    flows_api,
    jobs,
    join_api,
    messaging_api,
    not_found,
    openapi_api,
    ops_api,
    points_api,
    recommend_api,
    sales_api,
    segments_api,
    sla_api,
    streams,
    templates_api,
    tickets_api,
    tracing,
    unsubscribe_api,
    webhooks,
    workspace_api,
)
from chalicelib.handlers.http import error_shape, logger, metrics

# Powertools owns the "patron" logger (JSON, correlation ids); Chalice must not reset it
# to ERROR, which would drop the security and quarantine warnings.
app = Chalice(app_name="patron", configure_logs=False)
app.register_blueprint(webhooks.bp)
app.register_blueprint(admin.bp)
app.register_blueprint(segments_api.bp)
app.register_blueprint(analytics_api.bp)
app.register_blueprint(templates_api.bp)
app.register_blueprint(flows_api.bp)
app.register_blueprint(unsubscribe_api.bp)
app.register_blueprint(join_api.bp)
app.register_blueprint(csat_api.bp)  # the survey links are public, the rest needs the key
app.register_blueprint(messaging_api.bp)
app.register_blueprint(campaigns_api.bp)
app.register_blueprint(points_api.bp)
app.register_blueprint(customer_edits_api.bp)
app.register_blueprint(tickets_api.bp)
app.register_blueprint(sla_api.bp)
app.register_blueprint(recommend_api.bp)
app.register_blueprint(sales_api.bp)
app.register_blueprint(workspace_api.bp)
app.register_blueprint(streams.bp)
app.register_blueprint(jobs.bp)
app.register_blueprint(ops_api.bp)
app.register_blueprint(openapi_api.bp)
app.register_blueprint(console_api.bp)
app.register_blueprint(not_found.bp)  # last: `/` and `/{proxy+}`, a 404 for any path no route matches
# Every error in the one shape (http.ErrorBody); the key checked before Chalice's 405 and 415.
app.register_middleware(error_shape(authenticate=admin.workspace_id), "http")


CORRELATION_KEYS = ("workspace_id", "customer_id", "order_id", "webhook_id", "campaign_id")


@app.middleware("all")
def observability(event: Any, get_response: Any) -> Any:
    """Logger context, tracing and metrics flushing, attached once for every handler."""
    context = getattr(event, "context", None)
    if context is not None and hasattr(context, "aws_request_id"):
        logger.set_correlation_id(context.aws_request_id)
    name = getattr(context, "function_name", None) or "patron"

    def annotations() -> dict[str, str]:
        keys = logger.get_current_keys()  # the correlation ids the handler appended (no personal data)
        return {k: str(keys[k]) for k in CORRELATION_KEYS if keys.get(k)}

    try:
        with tracing.traced(name, annotations):
            return get_response(event)
    finally:
        if metrics.metric_set:
            metrics.flush_metrics()
        logger.remove_keys(list(CORRELATION_KEYS))
