-- The latest 100 sessions that escalated to a human, with the agent and the reason.
SELECT
    e.session_id,
    e.customer_id,
    e.turn_count AS turns_before_handoff,
    h.agent_id,
    h.reason
FROM manga_assist_events e
JOIN manga_assist_events h
  ON e.session_id = h.session_id
WHERE e.item_type = 'meta' AND e.status = 'handoff'
  AND h.item_type = 'handoff'
  AND e.year = '2026'
  AND h.year = '2026'
ORDER BY e."timestamp" DESC
LIMIT 100
