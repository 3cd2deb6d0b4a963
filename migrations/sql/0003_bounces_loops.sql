-- Verified bounces and mail-loop brakes.

-- Case event 'oversized': a mail too large to fetch threaded to the case.
-- Inbound decision 'throttled': a sender over its new-case limit; the mail is
-- stored without a case or an answer (0002 may already allow it).
-- Both CHECK constraints are extended from their current definition, so that
-- values other migrations added stay allowed.
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT * FROM (VALUES
            ('case_events'::regclass, 'case_events_kind_check', 'oversized'),
            ('messages'::regclass, 'messages_decision_check', 'throttled')) AS v (tbl, name, value)
    LOOP
        PERFORM 1 FROM pg_constraint WHERE conrelid = c.tbl AND conname = c.name
            AND pg_get_constraintdef(oid) LIKE '%ARRAY[%' AND pg_get_constraintdef(oid) NOT LIKE '%''' || c.value || '''::text%';
        IF FOUND THEN
            EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I, ADD CONSTRAINT %I %s', c.tbl, c.name, c.name,
                (SELECT replace(pg_get_constraintdef(oid), 'ARRAY[', 'ARRAY[' || quote_literal(c.value) || '::text, ')
                 FROM pg_constraint WHERE conrelid = c.tbl AND conname = c.name));
        END IF;
    END LOOP;
END
$$;

-- The per-sender new-case limit counts a sender's recent decisions.
CREATE INDEX messages_sender_recent_idx ON messages (from_address, created_at)
    WHERE direction = 'in' AND decision IN ('new_case', 'follow_up', 'throttled');
