-- Reads the processed table manga_assist_events_processed (each stream event once, complete UTC days up to yesterday). Handoffs to a human agent (new handoff items) in the last 30 UTC days before today (today excluded: the daily run has not reached it; 3-handoff-rate-by-hour reads the raw table up to now), by UTC hour of day: how many, and their share of all handoffs in the window, each stream event counted once.
--
-- A handoff is the INSERT of a handoff item. The hour is the event's own, from event_ts.
SELECT
    date_format(event_ts, '%H') AS hour,
    COUNT(*) AS handoff_count,
    ROUND(COUNT(*) * 100.0 / SUM(COUNT(*)) OVER (), 1) AS pct_of_total
FROM manga_assist_events_processed
WHERE event_ts >= CAST(current_date - INTERVAL '30' DAY AS timestamp)
  AND event_ts < CAST(current_date AS timestamp)
  AND item_type = 'handoff'
  AND event_type = 'INSERT'
GROUP BY date_format(event_ts, '%H')
ORDER BY hour
