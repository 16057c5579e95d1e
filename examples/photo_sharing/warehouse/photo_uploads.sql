-- Daily: photos shared that day, with the moderation review of each. A data-logs table.
INSERT OVERWRITE TABLE analytics.photo_uploads PARTITION (ds = '{{ ds }}')
SELECT u.id AS user_id,
       p.photo_id,
       p.created_at AS uploaded_at,
       p.caption,
       p.location,
       r.reviewer_id AS reviewed_by,
       r.spam_score
FROM photos_app.photos p
JOIN photos_app.users u ON u.id = p.user_id
LEFT JOIN moderation.photo_reviews r ON r.photo_id = p.photo_id
WHERE to_date(p.created_at) = '{{ ds }}';
