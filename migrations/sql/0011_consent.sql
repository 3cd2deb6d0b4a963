-- Diagnostics (issue 13 section 3): a case event 'consent' records an
-- agent's request for access to logs and diagnostic data and the
-- customer's answer (to_value requested, approved or denied). The
-- constraint is extended from its current definition, so values other
-- migrations added stay allowed.
DO $$
BEGIN
    PERFORM 1 FROM pg_constraint WHERE conrelid = 'case_events'::regclass AND conname = 'case_events_kind_check'
        AND pg_get_constraintdef(oid) LIKE '%ARRAY[%' AND pg_get_constraintdef(oid) NOT LIKE '%''consent''::text%';
    IF FOUND THEN
        EXECUTE format('ALTER TABLE case_events DROP CONSTRAINT case_events_kind_check, ADD CONSTRAINT case_events_kind_check %s',
            (SELECT replace(pg_get_constraintdef(oid), 'ARRAY[', 'ARRAY[''consent''::text, ')
             FROM pg_constraint WHERE conrelid = 'case_events'::regclass AND conname = 'case_events_kind_check'));
    END IF;
END
$$;

-- The latest consent event of a case is where its request stands.
CREATE INDEX case_events_consent_idx ON case_events (case_id, id DESC) WHERE kind = 'consent';
