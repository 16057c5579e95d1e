"""Where a user usually is: their home city and recent locations, from the daily warehouse rollup."""

from datetime import timedelta

from feast import Entity, FeatureView, Field
from feast.infra.offline_stores.contrib.spark_offline_store.spark_source import SparkSource
from feast.types import Array, String

user = Entity(
    name="user",
    join_keys=["user_id_hash"],
    description="A user, keyed by the salted hash of the user id (never the raw id).",
)

user_location_daily = SparkSource(
    name="user_location_daily",
    query="""
        SELECT user_id_hash,
               mode(top_location)         AS home_city,
               collect_list(top_location) AS recent_locations,
               max(ds)                    AS event_timestamp
        FROM analytics.user_location_daily
        WHERE ds >= date_sub(current_date(), 90)
        GROUP BY user_id_hash
    """,
    timestamp_field="event_timestamp",
)

user_location_features = FeatureView(
    name="user_location_features",
    entities=[user],
    ttl=timedelta(days=2),
    schema=[
        Field(name="home_city", dtype=String, tags={"location": ""}, description="mode over 90 days"),
        Field(
            name="recent_locations", dtype=Array(String), tags={"location": ""}, description="last 14 days"
        ),
    ],
    source=user_location_daily,
    online=True,
    owner="ml-platform@photoshare.example",
    description="Feature view keyed by user_id_hash.",
    tags={"team": "ml-platform"},
)
