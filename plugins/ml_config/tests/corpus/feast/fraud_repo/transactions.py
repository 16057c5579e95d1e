"""Card transaction aggregates for the fraud model."""

from datetime import timedelta

from feast import Entity, FeatureView, Field, SnowflakeSource
from feast.types import Float64, Int64

card = Entity(name="card", join_keys=["card_id"])

card_txn_source = SnowflakeSource(
    database="PAYMENTS",
    schema="FEATURES",
    table="CARD_TXN_1H",
    timestamp_field="WINDOW_END",
    field_mapping={"TXN_COUNT_1H": "txn_count_1h", "AMOUNT_SUM_1H": "amount_sum_1h"},
)

card_txn_1h = FeatureView(
    name="card_txn_1h",
    entities=[card],
    ttl=timedelta(hours=2),
    schema=[
        Field(name="txn_count_1h", dtype=Int64),
        Field(name="amount_sum_1h", dtype=Float64, tags={"pii": "financial"}),
    ],
    source=card_txn_source,
)
