-- A daily snapshot of every account's privacy settings (unpartitioned, overwritten). A data-logs table.
INSERT OVERWRITE TABLE analytics.account_settings
SELECT u.id AS user_id,
       s.setting,
       s.enabled,
       s.updated_at,
       s.audiences
FROM photos_app.user_settings s
JOIN photos_app.users u ON u.id = s.user_id;
