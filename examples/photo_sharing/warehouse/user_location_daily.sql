-- Each user's most frequent photo location of the day.
INSERT OVERWRITE TABLE analytics.user_location_daily PARTITION (ds = '{{ ds }}')
SELECT user_id_hash,
       max_by(location, n) AS top_location,
       sum(n) AS photo_count
FROM (
    SELECT user_id_hash, location, count(photo_id) AS n
    FROM analytics.photo_events
    WHERE ds = '{{ ds }}' AND location IS NOT NULL
    GROUP BY user_id_hash, location
) t
GROUP BY user_id_hash;
