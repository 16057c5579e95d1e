from datetime import timedelta

from data_sources import driver_profile_source
from driver_features import driver as driver_entity
from feast import FeatureView, Field
from feast.types import Float32, Int64

driver_profile = FeatureView(
    name="driver_profile",
    entities=[driver_entity],
    ttl=timedelta(days=7),
    schema=[
        Field(name="tenure_days", dtype=Int64),
        Field(name="avg_rating", dtype=Float32),
    ],
    source=driver_profile_source,
)
