-- Handoffs to a human agent by hour of day (UTC event time) for one month.
SELECT
    hour,
    COUNT(*) AS handoff_count,
    COUNT(*) * 100.0 / SUM(COUNT(*)) OVER () AS pct_of_total
FROM manga_assist_events
WHERE item_type = 'handoff'
  AND year = '2026' AND month = '03'
GROUP BY hour
ORDER BY hour
