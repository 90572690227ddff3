-- Reads the raw table manga_assist_events (every hour up to now, each event at least once, so copies are counted out here by change_id; for complete days up to yesterday, 4-token-usage-processed reads the processed table). Per UTC day of the last 30 (today included): tokens of the turns written that day (new turn items), the input cost they imply at $0.003 per 1,000 tokens, and how many turns, each stream event counted once.
--
-- A turn's tokens count once, at its INSERT: a MODIFY of the turn repeats its token_count and a
-- REMOVE (TTL) carries the old one. Each change_id is kept once: delivery is at least once.
--
-- Window and partitions: as in 1-daily-active-sessions.sql; see "Use partition projection with
-- Amazon Athena", https://docs.aws.amazon.com/athena/latest/ug/partition-projection.html.
WITH events AS (
    SELECT
        year, month, day, token_count,
        ROW_NUMBER() OVER (PARTITION BY change_id ORDER BY event_time_ms, event_id) AS copy_number
    FROM manga_assist_events
    WHERE year BETWEEN date_format(current_date - INTERVAL '29' DAY, '%Y') AND date_format(current_date, '%Y')
      AND concat(year, '-', month, '-', day) >= date_format(current_date - INTERVAL '29' DAY, '%Y-%m-%d')
      AND item_type = 'turn'
      AND event_type = 'INSERT'
)
SELECT
    concat(year, '-', month, '-', day) AS "date",
    SUM(token_count) AS total_tokens,
    ROUND(SUM(token_count) / 1000.0 * 0.003, 2) AS estimated_input_cost_usd,
    COUNT(*) AS total_turns
FROM events
WHERE copy_number = 1
GROUP BY year, month, day
ORDER BY "date" DESC
