-- Outgoing mail, raw inbound mail and attachment chunks are compressed with
-- lz4 instead of pglz: pglz was a third of PostgreSQL's time on an outbox
-- insert (a rendered notice is 5-30 KB). PostgreSQL 14+ built with lz4
-- (Debian's packages, the official images) has it; a server without it
-- keeps pglz. Values already stored keep their compression.
DO $$
BEGIN
    EXECUTE 'ALTER TABLE outbox ALTER COLUMN data SET COMPRESSION lz4';
    EXECUTE 'ALTER TABLE raw_chunks ALTER COLUMN data SET COMPRESSION lz4';
    EXECUTE 'ALTER TABLE blob_chunks ALTER COLUMN data SET COMPRESSION lz4';
EXCEPTION WHEN feature_not_supported OR syntax_error THEN
    RAISE NOTICE 'lz4 compression is not available on this server: keeping pglz';
END
$$;
