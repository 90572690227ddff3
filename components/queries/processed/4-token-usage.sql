-- Reads the processed table manga_assist_events_processed (each stream event once, complete UTC days up to yesterday). Per UTC day of the last 30 before today (today excluded: the daily run has not reached it; 4-token-usage reads the raw table up to now): tokens of the turns written that day (new turn items), the input cost they imply at $0.003 per 1,000 tokens, and how many turns, each stream event counted once.
--
-- A turn's tokens count once, at its INSERT, as in the raw version.
SELECT
    date_format(event_ts, '%Y-%m-%d') AS "date",
    SUM(token_count) AS total_tokens,
    ROUND(SUM(token_count) / 1000.0 * 0.003, 2) AS estimated_input_cost_usd,
    COUNT(*) AS total_turns
FROM manga_assist_events_processed
WHERE event_ts >= CAST(current_date - INTERVAL '30' DAY AS timestamp)
  AND event_ts < CAST(current_date AS timestamp)
  AND item_type = 'turn'
  AND event_type = 'INSERT'
GROUP BY date_format(event_ts, '%Y-%m-%d')
ORDER BY "date" DESC
