-- Step 1 of the processed layer's workflow: the Iceberg table, created by Athena, not by Pulumi.
--
-- pulumi-aws v6.83.4's glue.CatalogTable can create an Iceberg table (openTableFormatInput.icebergInput:
-- metadataOperation CREATE, version) but with no partition spec (partitionKeys are refused: "Cannot
-- create partitions in an iceberg table", hashicorp/terraform-provider-aws#36531), and an update
-- through the Glue table API either drops the Iceberg parameters (metadata_location, table_type:
-- terraform-provider-aws#33370) or leaves the Iceberg metadata behind (terraform-provider-aws#36641,
-- pulumi/pulumi-aws#4618). Every commit of Athena moves metadata_location, so Pulumi would also see
-- drift on every refresh. So this statement creates it, idempotently, on every run.
--
-- Columns: the raw table's (analytics.Event), plus event_ts for the day() partition transform
-- (Athena User Guide, "Create Iceberg tables": partition transforms, day(ts) on date or timestamp).
-- A column added to analytics.Event later needs ALTER TABLE ... ADD COLUMNS on this table: IF NOT
-- EXISTS leaves an existing table as it is (Iceberg schema evolution is a metadata change).
-- vacuum_max_snapshot_age_seconds is Athena's default, 5 days, written down: VACUUM removes files
-- that only snapshots older than that still reference (Athena User Guide, "Optimize Iceberg tables").
CREATE TABLE IF NOT EXISTS manga_assist_events_processed (
{{.ColumnDefinitions}},
    event_ts timestamp COMMENT 'event time (ts) as a UTC timestamp; the table is partitioned by its day'
)
PARTITIONED BY (day(event_ts))
LOCATION '{{.Location}}'
TBLPROPERTIES (
    'table_type' = 'ICEBERG',
    'format' = 'parquet',
    'write_compression' = 'snappy',
    'vacuum_max_snapshot_age_seconds' = '432000'
)
