"""Admin API: product recommendations, a customer's and a product's, and the placements'
settings (docs/recommendations.md, "API"; docs/data-model.md)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.container import container
from chalicelib.domain.errors import BadRequest
from chalicelib.handlers.admin import workspace_id
from chalicelib.handlers.http import api, json_response, key_actor, logger, model_body, model_query
from chalicelib.handlers.openapi import operation

bp = Blueprint(__name__)
VIEWS = "chalicelib.domain.recommend.views"
PLACEMENTS = "chalicelib.domain.recommend.placements"


@bp.route("/customers/{customer_id}/recommendations", methods=["GET"])
@operation(
    "A customer's recommended products, best first, each with its reason",
    "recommendations",
    {200: f"{VIEWS}:CustomerRecommendations"},
    query=f"{VIEWS}:RecommendationsQuery",
    errors=(400, 404),
)
@api
def customer_recommendations(customer_id: str) -> Any:
    """`?placement=email|sms|web|...` (its category rules and number of products) and
    `?limit=1..50` (without it the placement's, else 10)."""
    from chalicelib.domain.recommend.views import RecommendationsQuery

    ws = workspace_id()
    logger.append_keys(customer_id=customer_id)
    query = model_query(RecommendationsQuery, dict(bp.current_request.query_params or {}), "query")
    return container().recommender.customer(ws, customer_id, query.placement, query.limit)


@bp.route("/products/{product_id}/related", methods=["GET"])
@operation(
    "A product's related (bought by the same customers) and complementary (bought with it, then next)",
    "recommendations",
    {200: f"{VIEWS}:RelatedProducts"},
    query=f"{VIEWS}:RelatedQuery",
    errors=(400, 404),
)
@api
def related_products(product_id: str) -> Any:
    """The product as `GET /products/{id}` takes it (`SOURCE_ID.PLATFORM_PRODUCT_ID`);
    `?limit=1..50` per list (default 10)."""
    from chalicelib.domain.recommend.views import RelatedQuery

    ws = workspace_id()
    query = model_query(RelatedQuery, dict(bp.current_request.query_params or {}), "query")
    return container().recommender.related(ws, product_id, query.limit)


def _with_etag(shown: Any) -> Response:
    response = json_response(shown)
    response.headers["ETag"] = f'"{shown.version}"'
    return response


@bp.route("/recommendations/settings", methods=["GET"])
@operation(
    "The placements (email, sms, web, the workspace's own): category rules, limits; the version is the ETag",
    "recommendations",
    {200: f"{PLACEMENTS}:RecommendationSettingsOut"},
)
@api
def get_recommendation_settings() -> Response:
    return _with_etag(container().recommendation_settings.current(workspace_id()))


@bp.route("/recommendations/settings", methods=["PUT"])
@operation(
    "Replace the placements at a version (If-Match; 409 `stale_version`)",
    "recommendations",
    {200: f"{PLACEMENTS}:RecommendationSettingsOut"},
    body=f"{PLACEMENTS}:RecommendationSettingsIn",
    errors=(400, 409),
    headers=("If-Match",),
)
@api
def put_recommendation_settings() -> Response:
    """`{"placements": {name: {"include_categories", "exclude_categories", "limit"}}}` if
    `If-Match` is still the version (`"0"` before the first write)."""
    from chalicelib.domain.recommend.placements import RecommendationSettingsIn

    ws = workspace_id()
    request = bp.current_request
    match = (request.headers.get("if-match") or "").strip().removeprefix("W/").strip('"')
    if not match.isdigit():
        raise BadRequest(
            "If-Match is required: the version (ETag) of GET /recommendations/settings",
            [{"field": "If-Match", "error": "missing"}],
        )
    body = model_body(RecommendationSettingsIn, request.raw_body, "recommendation settings")
    actor = key_actor(request.headers.get("authorization"))
    return _with_etag(container().recommendation_settings.replace(ws, body, int(match), actor))
