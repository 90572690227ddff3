-- Turns per finished conversation: average, spread and percentiles for one month.
SELECT
    ROUND(AVG(turn_count), 1) AS avg_turns,
    ROUND(STDDEV(turn_count), 1) AS stddev_turns,
    MAX(turn_count) AS max_turns,
    APPROX_PERCENTILE(turn_count, 0.50) AS p50_turns,
    APPROX_PERCENTILE(turn_count, 0.95) AS p95_turns
FROM manga_assist_events
WHERE item_type = 'meta'
  AND event_type = 'MODIFY'
  AND status = 'disconnected'
  AND year = '2026' AND month = '03'
