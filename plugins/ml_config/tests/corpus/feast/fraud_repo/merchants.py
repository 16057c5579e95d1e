from datetime import timedelta

from feast import Entity, FeatureView, Field, FileSource
from feast.types import Float32, String

merchant = Entity(name="merchant", join_keys=["merchant_id"])

merchant_source = FileSource(
    name="merchant_risk",
    path="s3://payments-lake/features/merchant_risk/",
    timestamp_field="as_of",
)

merchant_risk = FeatureView(
    name="merchant_risk",
    entities=[merchant],
    ttl=timedelta(days=30),
    schema=[Field(name="chargeback_rate", dtype=Float32), Field(name="mcc", dtype=String)],
    source=merchant_source,
)

# A view whose source is built by a helper: reported, not guessed.
merchant_daily = FeatureView(
    name="merchant_daily",
    entities=[merchant],
    schema=[Field(name="orders", dtype=Float32)],
    source=make_source("merchant_daily"),
)
