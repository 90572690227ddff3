-- Step 2: copy the window's events from the raw table into the processed table, each event once.
--
-- The window is whole UTC days: from {window_start} up to, not including, {run_date}, the UTC day
-- of the run's scheduled time (so a retried run reads the same days). It is read through the raw
-- table's day partitions. Delivery is at least once, so the source is first reduced to one row per
-- change_id, the earliest: a retried batch repeats an event (same event_id, same partition), and
-- around a switch of the analytics region a change also comes through a second region's stream
-- (another event_id and event time, the same change_id). Only events
-- the processed table does not hold yet are inserted, with no WHEN MATCHED clause: running it twice
-- inserts nothing the second time. The ON condition also bounds the target to the window's days,
-- so only those partitions of the processed table are read (an event's event_ts never changes).
MERGE INTO manga_assist_events_processed AS t
USING (
    SELECT {{.Columns}}, event_ts
    FROM (
        SELECT {{.Columns}},
            CAST(from_unixtime(ts) AS timestamp(6)) AS event_ts,
            ROW_NUMBER() OVER (PARTITION BY change_id ORDER BY event_time_ms, event_id) AS copy_number
        FROM manga_assist_events
        WHERE year BETWEEN substr('{window_start}', 1, 4) AND substr('{run_date}', 1, 4)
          AND concat(year, '-', month, '-', day) >= '{window_start}'
          AND concat(year, '-', month, '-', day) < '{run_date}'
    )
    WHERE copy_number = 1
) AS s
ON t.change_id = s.change_id
    AND t.event_ts >= TIMESTAMP '{window_start} 00:00:00'
    AND t.event_ts < TIMESTAMP '{run_date} 00:00:00'
WHEN NOT MATCHED THEN
    INSERT ({{.Columns}}, event_ts)
    VALUES ({{.SourceColumns}}, s.event_ts)
