-- Daily import of the app's photos into the warehouse, run by the scheduler with ds = the day.
-- photos_app is the app's MySQL database mounted in Hive (JDBC storage handler), so the plugin
-- names it mysql://appdb:3306 (see plugins.sql.sources[].schemas in ../flowscope.yaml).
INSERT OVERWRITE TABLE analytics.photo_events PARTITION (ds = '{{ ds }}')
SELECT photo_id,
       sha2(CAST(user_id AS STRING), 256) AS user_id_hash,
       location,
       created_at
FROM photos_app.photos
WHERE to_date(created_at) = '{{ ds }}';
