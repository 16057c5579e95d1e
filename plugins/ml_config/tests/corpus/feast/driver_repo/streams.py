from datetime import timedelta

from feast import Entity, Field, FileSource, KafkaSource, StreamFeatureView
from feast.data_format import JsonFormat
from feast.types import Float32

driver = Entity(name="driver", join_keys=["driver_id"])

trips_batch = FileSource(
    path="gs://rides-feast/backfill/driver_trips.parquet",
    timestamp_field="event_timestamp",
)

trips_stream = KafkaSource(
    name="driver_trips_stream",
    kafka_bootstrap_servers="kafka-1.rides.internal:9092,kafka-2.rides.internal:9092",
    topic="driver.trips",
    timestamp_field="event_timestamp",
    batch_source=trips_batch,
    message_format=JsonFormat(schema_json="driver_id integer, trip_km double, event_timestamp timestamp"),
    watermark_delay_threshold=timedelta(minutes=5),
)

driver_trip_km = StreamFeatureView(
    name="driver_trip_km",
    entities=[driver],
    ttl=timedelta(hours=6),
    schema=[Field(name="trip_km", dtype=Float32)],
    source=trips_stream,
    owner="rides-ml@example.com",
)
