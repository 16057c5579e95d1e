from datetime import timedelta
from pathlib import Path

from feast import Entity, FeatureService, FeatureView, Field, PostgreSQLSource, PushSource, RequestSource
from feast.feature_logging import LoggingConfig
from feast.infra.offline_stores.file_source import FileLoggingDestination
from feast.on_demand_feature_view import on_demand_feature_view
from feast.types import Float32, Int64

REPO = Path(__file__).parent

product = Entity(name="product", join_keys=["product_id"])

review_stats_source = PostgreSQLSource(
    name="review_stats_source",
    query="SELECT product_id, avg_stars, review_count, event_ts FROM review_stats",
    timestamp_field="event_ts",
)

review_push = PushSource(name="review_push", batch_source=review_stats_source)

review_stats = FeatureView(
    name="review_stats",
    entities=[product],
    ttl=timedelta(days=7),
    schema=[Field(name="avg_stars", dtype=Float32), Field(name="review_count", dtype=Int64)],
    source=review_push,
)

request = RequestSource(name="shopper_request", schema=[Field(name="basket_size", dtype=Int64)])


@on_demand_feature_view(
    sources=[review_stats, request],
    schema=[Field(name="stars_per_item", dtype=Float32)],
)
def stars_per_item(inputs):
    return inputs


product_ranking = FeatureService(
    name="product_ranking",
    features=[review_stats[["avg_stars"]], stars_per_item],
    logging_config=LoggingConfig(destination=FileLoggingDestination(path=f"{REPO}/logs/product_ranking")),
)
