-- Step 4: compaction of the window's days, which today's MERGE (and late events) wrote to in small
-- files. Athena allows only partition columns in OPTIMIZE's WHERE (Athena User Guide, "OPTIMIZE");
-- the bounds are whole days of event_ts, the source of the day() partition.
OPTIMIZE manga_assist_events_processed REWRITE DATA USING BIN_PACK
WHERE event_ts >= TIMESTAMP '{window_start} 00:00:00' AND event_ts < TIMESTAMP '{run_date} 00:00:00'
