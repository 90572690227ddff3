-- Reads the raw table manga_assist_events (every hour up to now, each event at least once, so copies are counted out here by change_id; for complete days up to yesterday, 5-escalated-sessions-processed reads the processed table). The 100 sessions that most recently escalated to a human (status changed into 'handoff') in the last 30 UTC days, today included, one row per session at its latest escalation: customer, turns before the handoff, and agent and reason of the session's latest new handoff item; each stream event counted once.
--
-- An escalation is a MODIFY of the meta item whose status becomes 'handoff' (old status
-- different); later MODIFYs while in handoff and the REMOVE (TTL) are not escalations. Agent and
-- reason come from the INSERT of a handoff item (null if none in the window). Each change_id is
-- kept once: delivery is at least once.
--
-- Window and partitions: as in 1-daily-active-sessions.sql; see "Use partition projection with
-- Amazon Athena", https://docs.aws.amazon.com/athena/latest/ug/partition-projection.html.
WITH events AS (
    SELECT
        event_id, session_id, item_type, customer_id, turn_count, agent_id, reason, ts, event_time_ms,
        ROW_NUMBER() OVER (PARTITION BY change_id ORDER BY event_time_ms, event_id) AS copy_number
    FROM manga_assist_events
    WHERE year BETWEEN date_format(current_date - INTERVAL '29' DAY, '%Y') AND date_format(current_date, '%Y')
      AND concat(year, '-', month, '-', day) >= date_format(current_date - INTERVAL '29' DAY, '%Y-%m-%d')
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
    WHERE copy_number = 1 AND item_type = 'meta'
),
handoffs AS (
    SELECT
        session_id, agent_id, reason,
        ROW_NUMBER() OVER (PARTITION BY session_id ORDER BY event_time_ms DESC, event_id) AS recency
    FROM events
    WHERE copy_number = 1 AND item_type = 'handoff'
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
