-- A small pipeline: a clean copy, a syntax error, an aggregate.
INSERT OVERWRITE TABLE shop.paid_orders
SELECT * FROM shop.orders WHERE status = 'paid';

SELECT FROM WHERE;

INSERT OVERWRITE TABLE shop.revenue_by_country
SELECT u.country, sum(o.amount) AS revenue, md5(u.email) AS any_email
FROM shop.paid_orders o JOIN shop.users u ON o.user_id = u.id
GROUP BY u.country, md5(u.email);
