-- Reads the raw table manga_assist_events (every hour up to now, each event at least once, so copies are counted out here by change_id; for complete days up to yesterday, 2-conversation-length-processed reads the processed table). Turns per conversation that ended (its status changed into 'disconnected') in the last 30 UTC days, today included: how many ended, and the average, spread, maximum and percentiles of their turn counts, each conversation counted once at its last such change.
--
-- A conversation ends with a MODIFY of its meta item whose status becomes 'disconnected' (old
-- status different); later MODIFYs while it stays disconnected, and the REMOVE when TTL deletes
-- it, are not endings. Each change_id is kept once: delivery is at least once. A conversation
-- that ended twice (reconnected, then left again) counts once, with its turns at the last end
-- (turn_count only grows).
--
-- Window and partitions: as in 1-daily-active-sessions.sql; see "Use partition projection with
-- Amazon Athena", https://docs.aws.amazon.com/athena/latest/ug/partition-projection.html.
WITH events AS (
    SELECT
        session_id, turn_count,
        ROW_NUMBER() OVER (PARTITION BY change_id ORDER BY event_time_ms, event_id) AS copy_number
    FROM manga_assist_events
    WHERE year BETWEEN date_format(current_date - INTERVAL '29' DAY, '%Y') AND date_format(current_date, '%Y')
      AND concat(year, '-', month, '-', day) >= date_format(current_date - INTERVAL '29' DAY, '%Y-%m-%d')
      AND item_type = 'meta'
      AND event_type = 'MODIFY'
      AND status = 'disconnected'
      AND old_status IS DISTINCT FROM status
),
conversations AS (
    SELECT session_id, MAX(turn_count) AS turns
    FROM events
    WHERE copy_number = 1
    GROUP BY session_id
)
SELECT
    COUNT(*) AS conversations,
    ROUND(AVG(turns), 1) AS avg_turns,
    ROUND(STDDEV(turns), 1) AS stddev_turns,
    MAX(turns) AS max_turns,
    APPROX_PERCENTILE(turns, 0.50) AS p50_turns,
    APPROX_PERCENTILE(turns, 0.95) AS p95_turns
FROM conversations
