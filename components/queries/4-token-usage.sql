-- Tokens per day and the input cost they imply at $0.003 per 1,000 tokens, for one month.
SELECT
    year || '-' || month || '-' || day AS "date",
    SUM(token_count) AS total_tokens,
    ROUND(SUM(token_count) / 1000.0 * 0.003, 2) AS estimated_input_cost_usd,
    COUNT(*) AS total_turns
FROM manga_assist_events
WHERE item_type = 'turn'
  AND year = '2026' AND month = '03'
GROUP BY year, month, day
ORDER BY "date" DESC
