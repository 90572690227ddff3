MERGE INTO manga_assist_events_processed AS t
USING (
    SELECT event_id, event_type, session_id, sort_key, item_type, role, status, old_status, customer_id, turn_count, token_count, agent_id, reason, response_id, size_bytes, ts, summary_number, sequence_number, event_time_ms, change_id, source_region, event_ts
    FROM (
        SELECT event_id, event_type, session_id, sort_key, item_type, role, status, old_status, customer_id, turn_count, token_count, agent_id, reason, response_id, size_bytes, ts, summary_number, sequence_number, event_time_ms, change_id, source_region,
            CAST(from_unixtime(ts) AS timestamp(6)) AS event_ts,
            ROW_NUMBER() OVER (PARTITION BY change_id ORDER BY event_time_ms, event_id) AS copy_number
        FROM manga_assist_events
        WHERE year BETWEEN substr('2026-11-21', 1, 4) AND substr('2026-11-28', 1, 4)
          AND concat(year, '-', month, '-', day) >= '2026-11-21'
          AND concat(year, '-', month, '-', day) < '2026-11-28'
    )
    WHERE copy_number = 1
) AS s
ON t.change_id = s.change_id
    AND t.event_ts >= TIMESTAMP '2026-11-21 00:00:00'
    AND t.event_ts < TIMESTAMP '2026-11-28 00:00:00'
WHEN NOT MATCHED THEN
    INSERT (event_id, event_type, session_id, sort_key, item_type, role, status, old_status, customer_id, turn_count, token_count, agent_id, reason, response_id, size_bytes, ts, summary_number, sequence_number, event_time_ms, change_id, source_region, event_ts)
    VALUES (s.event_id, s.event_type, s.session_id, s.sort_key, s.item_type, s.role, s.status, s.old_status, s.customer_id, s.turn_count, s.token_count, s.agent_id, s.reason, s.response_id, s.size_bytes, s.ts, s.summary_number, s.sequence_number, s.event_time_ms, s.change_id, s.source_region, s.event_ts)
