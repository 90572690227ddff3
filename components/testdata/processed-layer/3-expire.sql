DELETE FROM manga_assist_events_processed
WHERE event_ts < TIMESTAMP '2019-11-30 00:00:00'
