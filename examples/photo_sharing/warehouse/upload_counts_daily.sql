-- Daily photo uploads per area for the growth dashboard: counts only, no user id, and the location
-- rounded to one decimal degree (about 11 km), so no single place a user was can be read back.
INSERT OVERWRITE TABLE analytics.upload_counts_daily PARTITION (ds = '{{ ds }}')
SELECT round(CAST(split(location, ',')[0] AS DOUBLE), 1) AS area_lat,
       round(CAST(split(location, ',')[1] AS DOUBLE), 1) AS area_lng,
       count(photo_id) AS uploads
FROM photos_app.photos
WHERE to_date(created_at) = '{{ ds }}' AND location IS NOT NULL
GROUP BY round(CAST(split(location, ',')[0] AS DOUBLE), 1),
         round(CAST(split(location, ',')[1] AS DOUBLE), 1);
