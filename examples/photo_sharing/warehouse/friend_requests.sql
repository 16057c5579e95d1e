-- Daily: friend requests sent that day. Both ends are users: the sender's and the receiver's data logs
-- each read this table, with a different owner column.
INSERT OVERWRITE TABLE analytics.friend_requests PARTITION (ds = '{{ ds }}')
SELECT s.id AS from_user_id,
       r.id AS to_user_id,
       f.status,
       f.sent_at,
       f.seen
FROM photos_app.friend_requests f
JOIN photos_app.users s ON s.id = f.sender_id
JOIN photos_app.users r ON r.id = f.receiver_id
WHERE to_date(f.sent_at) = '{{ ds }}';
