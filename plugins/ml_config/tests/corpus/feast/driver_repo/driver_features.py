from datetime import timedelta

import pandas as pd
from feast import BigQuerySource, Entity, FeatureService, FeatureView, Field, RequestSource
from feast.on_demand_feature_view import on_demand_feature_view
from feast.types import Float32, Float64, Int64

driver = Entity(name="driver", join_keys=["driver_id"], description="driver id")

driver_stats_source = BigQuerySource(
    name="driver_hourly_stats_source",
    table="rides-prod.telemetry.driver_hourly_stats",
    timestamp_field="event_timestamp",
    created_timestamp_column="created",
)

driver_hourly_stats = FeatureView(
    name="driver_hourly_stats",
    entities=[driver],
    ttl=timedelta(days=1),
    schema=[
        Field(name="conv_rate", dtype=Float32),
        Field(name="acc_rate", dtype=Float32),
        Field(name="avg_daily_trips", dtype=Int64, description="Average daily trips"),
    ],
    online=True,
    source=driver_stats_source,
    tags={"team": "driver_performance"},
)

input_request = RequestSource(
    name="vals_to_add",
    schema=[Field(name="val_to_add", dtype=Int64)],
)


@on_demand_feature_view(
    sources=[driver_hourly_stats, input_request],
    schema=[Field(name="conv_rate_plus_val", dtype=Float64)],
)
def transformed_conv_rate(inputs: pd.DataFrame) -> pd.DataFrame:
    df = pd.DataFrame()
    df["conv_rate_plus_val"] = inputs["conv_rate"] + inputs["val_to_add"]
    return df


driver_activity_v1 = FeatureService(
    name="driver_activity_v1",
    features=[driver_hourly_stats[["conv_rate", "avg_daily_trips"]], transformed_conv_rate],
)
