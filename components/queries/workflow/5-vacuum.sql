-- Step 5: snapshot expiry and orphan-file removal (Athena User Guide, "VACUUM"), which is what
-- deletes the files that OPTIMIZE replaced and DELETE emptied. The role needs s3:DeleteObject on
-- the table's location, or VACUUM succeeds without deleting anything.
VACUUM manga_assist_events_processed
