-- Reads the processed table manga_assist_events_processed (each stream event once, complete UTC days up to yesterday). Turns per conversation that ended (its status changed into 'disconnected') in the last 30 UTC days before today (today excluded: the daily run has not reached it; 2-conversation-length reads the raw table up to now): how many ended, and the average, spread, maximum and percentiles of their turn counts, each conversation counted once at its last such change.
--
-- As in the raw version: an ending is a MODIFY of the meta item whose status becomes
-- 'disconnected'; a conversation that ended twice counts once, with its turns at the last end.
SELECT
    COUNT(*) AS conversations,
    ROUND(AVG(turns), 1) AS avg_turns,
    ROUND(STDDEV(turns), 1) AS stddev_turns,
    MAX(turns) AS max_turns,
    APPROX_PERCENTILE(turns, 0.50) AS p50_turns,
    APPROX_PERCENTILE(turns, 0.95) AS p95_turns
FROM (
    SELECT session_id, MAX(turn_count) AS turns
    FROM manga_assist_events_processed
    WHERE event_ts >= CAST(current_date - INTERVAL '30' DAY AS timestamp)
      AND event_ts < CAST(current_date AS timestamp)
      AND item_type = 'meta'
      AND event_type = 'MODIFY'
      AND status = 'disconnected'
      AND old_status IS DISTINCT FROM status
    GROUP BY session_id
) AS conversations
