-- Reads the raw table manga_assist_events (every hour up to now, each event at least once, so copies are counted out here by change_id; for complete days up to yesterday, 3-handoff-rate-by-hour-processed reads the processed table). Handoffs to a human agent (new handoff items) in the last 30 UTC days, today included, by UTC hour of day: how many, and their share of all handoffs in the window, each stream event counted once.
--
-- A handoff is the INSERT of a handoff item; its MODIFYs and its REMOVE (TTL) are not new
-- handoffs. Each change_id is kept once: delivery is at least once. The hour is the event's own
-- (the hour partition comes from the event time, not from when Firehose received it).
--
-- Window and partitions: as in 1-daily-active-sessions.sql; see "Use partition projection with
-- Amazon Athena", https://docs.aws.amazon.com/athena/latest/ug/partition-projection.html.
WITH events AS (
    SELECT
        hour,
        ROW_NUMBER() OVER (PARTITION BY change_id ORDER BY event_time_ms, event_id) AS copy_number
    FROM manga_assist_events
    WHERE year BETWEEN date_format(current_date - INTERVAL '29' DAY, '%Y') AND date_format(current_date, '%Y')
      AND concat(year, '-', month, '-', day) >= date_format(current_date - INTERVAL '29' DAY, '%Y-%m-%d')
      AND item_type = 'handoff'
      AND event_type = 'INSERT'
)
SELECT
    hour,
    COUNT(*) AS handoff_count,
    ROUND(COUNT(*) * 100.0 / SUM(COUNT(*)) OVER (), 1) AS pct_of_total
FROM events
WHERE copy_number = 1
GROUP BY hour
ORDER BY hour
