-- The growth dashboard's weekly view of uploads per area.
INSERT OVERWRITE TABLE reporting.growth_uploads_weekly PARTITION (ds = '{{ ds }}')
SELECT area_lat,
       area_lng,
       sum(uploads) AS uploads_7d
FROM analytics.upload_counts_daily
WHERE ds BETWEEN date_sub('{{ ds }}', 6) AND '{{ ds }}'
GROUP BY area_lat, area_lng;
