-- Reads the processed table manga_assist_events_processed (each stream event once, complete UTC days up to yesterday). Per UTC day of the last 7 before today (today excluded: the daily run has not reached it; 1-daily-active-sessions reads the raw table up to now): sessions that wrote at least one new turn, new user turns (user messages) and new handoff items (handoffs), each stream event counted once.
--
-- The processed table holds each change_id once (the daily workflow's MERGE de-duplicates), so
-- nothing is numbered here. Only INSERTs count, as in the raw version. The window is whole UTC
-- days of event_ts, the source of the table's day() partitions, so Iceberg reads only those days.
SELECT
    date_format(event_ts, '%Y-%m-%d') AS "date",
    COUNT(DISTINCT CASE WHEN item_type = 'turn' THEN session_id END) AS active_sessions,
    COUNT_IF(item_type = 'turn' AND role = 'user') AS user_messages,
    COUNT_IF(item_type = 'handoff') AS handoffs
FROM manga_assist_events_processed
WHERE event_ts >= CAST(current_date - INTERVAL '7' DAY AS timestamp)
  AND event_ts < CAST(current_date AS timestamp)
  AND event_type = 'INSERT'
  AND item_type IN ('turn', 'handoff')
GROUP BY date_format(event_ts, '%Y-%m-%d')
ORDER BY "date" DESC
