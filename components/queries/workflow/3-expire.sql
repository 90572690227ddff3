-- Step 3: retention. Events of days before {retention_start} (the run's day minus the retention)
-- leave the table. Lifecycle rules must not do this for an Iceberg table (see
-- internal/lifecycle.AnalyticsTiers); the files go when VACUUM expires the snapshots that still
-- hold them, and S3 keeps their noncurrent versions as long as the bucket keeps any.
DELETE FROM manga_assist_events_processed
WHERE event_ts < TIMESTAMP '{retention_start} 00:00:00'
