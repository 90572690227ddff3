CREATE TABLE IF NOT EXISTS manga_assist_events_processed (
    event_id string COMMENT 'stream record eventID, different in each region; change_id de-duplicates',
    event_type string COMMENT 'INSERT, MODIFY or REMOVE',
    session_id string COMMENT 'PK without SESSION#; also the Kinesis partition key',
    sort_key string COMMENT 'SK of the item',
    item_type string COMMENT 'meta, turn, summary or handoff (from SK)',
    role string COMMENT 'turn: who wrote it',
    status string COMMENT 'meta: status in the new image (old image on REMOVE)',
    old_status string COMMENT 'meta: status in the old image; null on INSERT',
    customer_id string COMMENT 'meta: customer of the session',
    turn_count double COMMENT 'meta: turns so far',
    token_count double COMMENT 'turn: tokens of the turn',
    agent_id string COMMENT 'handoff: human agent',
    reason string COMMENT 'handoff: why',
    response_id string COMMENT 'turn: model response id',
    size_bytes bigint COMMENT 'stream record size in bytes',
    ts bigint COMMENT 'event time, epoch seconds (ApproximateCreationDateTime); JSON key timestamp',
    summary_number string COMMENT 'summary: SK after SUMMARY#',
    sequence_number string COMMENT 'stream record SequenceNumber; replay position and order',
    event_time_ms bigint COMMENT 'event time, epoch milliseconds; drives the hour partition',
    change_id string COMMENT 'hash of keys, event name and both images: the same in every region; de-duplication key',
    source_region string COMMENT 'region whose table stream the event came from',
    event_ts timestamp COMMENT 'event time (ts) as a UTC timestamp; the table is partitioned by its day'
)
PARTITIONED BY (day(event_ts))
LOCATION 's3://data/processed/manga_assist_events_processed/'
TBLPROPERTIES (
    'table_type' = 'ICEBERG',
    'format' = 'parquet',
    'write_compression' = 'snappy',
    'vacuum_max_snapshot_age_seconds' = '432000'
)
