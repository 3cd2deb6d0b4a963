-- Send budgets as counters: mails queued per key ('case:<id>', 'rcpt:<address>')
-- per time bucket (a sixth of the budget window), incremented in the
-- transaction that queues the mail. A budget check sums at most seven rows,
-- however much mail was sent.
CREATE TABLE send_counters (
    key          text NOT NULL CHECK (key <> ''),
    bucket_start timestamptz NOT NULL,
    mails        integer NOT NULL CHECK (mails > 0),
    expires_at   timestamptz NOT NULL, -- no window reaches back to this bucket afterwards
    PRIMARY KEY (key, bucket_start)
);
CREATE INDEX send_counters_expires_idx ON send_counters (expires_at);

-- Carry the last hour's mail over, so the brakes hold across the upgrade
-- (the daemon's window is one hour: buckets of ten minutes).
INSERT INTO send_counters (key, bucket_start, mails, expires_at)
SELECT key, bucket, count(*), bucket + interval '70 minutes'
FROM (
    SELECT 'case:' || case_id AS key, date_bin('10 minutes', created_at, timestamptz 'epoch') AS bucket
    FROM outbox WHERE case_id IS NOT NULL AND status <> 'suppressed' AND created_at > now() - interval '70 minutes'
    UNION ALL
    SELECT 'rcpt:' || r, date_bin('10 minutes', created_at, timestamptz 'epoch')
    FROM outbox, unnest(recipients) AS r WHERE status <> 'suppressed' AND created_at > now() - interval '70 minutes'
) x
GROUP BY key, bucket;

