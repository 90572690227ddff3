-- Reads the processed table manga_assist_events_processed (each stream event once, complete UTC days up to yesterday). The 100 sessions that most recently escalated to a human (status changed into 'handoff') in the last 30 UTC days before today (today excluded: the daily run has not reached it; 5-escalated-sessions reads the raw table up to now), one row per session at its latest escalation: customer, turns before the handoff, and agent and reason of the session's latest new handoff item; each stream event counted once.
--
-- As in the raw version: an escalation is a MODIFY of the meta item whose status becomes
-- 'handoff'; agent and reason come from the INSERT of a handoff item (null if none in the window).
WITH events AS (
    SELECT
        event_id, session_id, item_type, customer_id, turn_count, agent_id, reason, ts, event_time_ms
    FROM manga_assist_events_processed
    WHERE event_ts >= CAST(current_date - INTERVAL '30' DAY AS timestamp)
      AND event_ts < CAST(current_date AS timestamp)
      AND (
          (item_type = 'meta' AND event_type = 'MODIFY' AND status = 'handoff' AND old_status IS DISTINCT FROM status)
          OR (item_type = 'handoff' AND event_type = 'INSERT')
      )
),
escalations AS (
    SELECT
        session_id, customer_id, turn_count, ts, event_time_ms,
        ROW_NUMBER() OVER (PARTITION BY session_id ORDER BY event_time_ms DESC, event_id) AS recency
    FROM events
    WHERE item_type = 'meta'
),
handoffs AS (
    SELECT
        session_id, agent_id, reason,
        ROW_NUMBER() OVER (PARTITION BY session_id ORDER BY event_time_ms DESC, event_id) AS recency
    FROM events
    WHERE item_type = 'handoff'
)
SELECT
    e.session_id,
    e.customer_id,
    e.turn_count AS turns_before_handoff,
    h.agent_id,
    h.reason,
    from_unixtime(e.ts) AS escalated_at
FROM escalations AS e
LEFT JOIN handoffs AS h
    ON h.session_id = e.session_id AND h.recency = 1
WHERE e.recency = 1
ORDER BY e.ts DESC, e.event_time_ms DESC
LIMIT 100
