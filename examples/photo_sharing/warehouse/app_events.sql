-- Daily: the app's event log, kept for accounts that still exist. A data-logs table
-- (datalogs/catalog.yaml): its user_id is downstream of photos_app.users.id.
INSERT OVERWRITE TABLE analytics.app_events PARTITION (ds = '{{ ds }}')
SELECT u.id AS user_id,
       e.event_time,
       e.event_type,
       e.client_version,
       e.device_id,
       e.session_ms
FROM raw_logs.app_events e
JOIN photos_app.users u ON u.id = e.user_id
WHERE e.ds = '{{ ds }}';
