-- Daily active sessions, user messages and handoffs over the last 7 days of a month.
-- Change the partition filter to the days you want: it is what keeps the scan small.
SELECT
    year || '-' || month || '-' || day AS "date",
    COUNT(DISTINCT session_id) AS active_sessions,
    COUNT(CASE WHEN item_type = 'turn' AND role = 'user' THEN 1 END) AS user_messages,
    COUNT(CASE WHEN item_type = 'handoff' THEN 1 END) AS handoffs
FROM manga_assist_events
WHERE year = '2026' AND month = '03' AND day >= '18'
GROUP BY year, month, day
ORDER BY "date" DESC
