-- Reads the raw table manga_assist_events (every hour up to now, each event at least once, so copies are counted out here by change_id; for complete days up to yesterday, 1-daily-active-sessions-processed reads the processed table). Per UTC day of the last 7 (today included): sessions that wrote at least one new turn, new user turns (user messages) and new handoff items (handoffs), each stream event counted once.
--
-- The table holds one row per INSERT, MODIFY and REMOVE of an item, and delivery is at least
-- once: so only INSERTs count (a TTL deletion is a REMOVE, an edit a MODIFY), and each change_id
-- is kept once, the earliest copy (a retried batch repeats events with their event_id, in the same
-- partition; around a switch of the analytics region a change also comes from a second region's
-- stream, with another event_id and time but the same change_id).
--
-- Window and partitions: year, month, day and hour are zero-padded strings under partition
-- projection, and current_date is UTC like them. Athena prunes the partitions of projected
-- tables too ("Use partition projection with Amazon Athena",
-- https://docs.aws.amazon.com/athena/latest/ug/partition-projection.html): comparing year with
-- constants limits the partitions projection generates to at most two years; the concat()
-- comparison, on partition keys only, is then checked on each partition's values (Trino's Hive
-- connector applies such filters to partitions), so no file outside the window is read.
WITH events AS (
    SELECT
        year, month, day, session_id, item_type, role,
        ROW_NUMBER() OVER (PARTITION BY change_id ORDER BY event_time_ms, event_id) AS copy_number
    FROM manga_assist_events
    WHERE year BETWEEN date_format(current_date - INTERVAL '6' DAY, '%Y') AND date_format(current_date, '%Y')
      AND concat(year, '-', month, '-', day) >= date_format(current_date - INTERVAL '6' DAY, '%Y-%m-%d')
      AND event_type = 'INSERT'
      AND item_type IN ('turn', 'handoff')
)
SELECT
    concat(year, '-', month, '-', day) AS "date",
    COUNT(DISTINCT CASE WHEN item_type = 'turn' THEN session_id END) AS active_sessions,
    COUNT_IF(item_type = 'turn' AND role = 'user') AS user_messages,
    COUNT_IF(item_type = 'handoff') AS handoffs
FROM events
WHERE copy_number = 1
GROUP BY year, month, day
ORDER BY "date" DESC
