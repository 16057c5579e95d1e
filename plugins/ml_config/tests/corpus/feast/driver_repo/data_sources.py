"""Batch sources shared by the driver feature views."""

from feast import BigQuerySource

driver_profile_source = BigQuerySource(
    name="driver_profile_source",
    query="""
        SELECT driver_id,
               DATE_DIFF(CURRENT_DATE(), MIN(signup_date), DAY) AS tenure_days,
               AVG(rating) AS avg_rating,
               updated_at
        FROM `rides-prod.core.driver_profiles`
        GROUP BY driver_id, updated_at
    """,
    timestamp_field="updated_at",
)
