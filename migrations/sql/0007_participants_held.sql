-- Participants and held mail (issue 12 §1).

-- How a participant joined: the address they were added as, who added them
-- (the sender of the mail, or an operator) and why. Role 'new_address': a
-- reply from an address we never mailed that carried a valid reply token.
ALTER TABLE case_participants ADD COLUMN address text NOT NULL DEFAULT '';
ALTER TABLE case_participants ADD COLUMN added_by bigint REFERENCES users (id);
ALTER TABLE case_participants ADD COLUMN reason text NOT NULL DEFAULT '';
ALTER TABLE case_participants DROP CONSTRAINT IF EXISTS case_participants_role_check;
ALTER TABLE case_participants ADD CONSTRAINT case_participants_role_check
    CHECK (role IN ('cc', 'customer', 'new_address', 'released'));

-- An operator's verdict on held or refused mail: released (appended or
-- opened as a case) or discarded (kept for audit, no longer listed).
ALTER TABLE messages ADD COLUMN review text NOT NULL DEFAULT '' CHECK (review IN ('', 'released', 'discarded'));
ALTER TABLE messages ADD COLUMN reviewed_by text NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN reviewed_at timestamptz;
CREATE INDEX messages_held_idx ON messages (id) WHERE direction = 'in' AND decision IN ('held', 'refused') AND review = '';

-- When a reseller was last told that a customer org it wrote for has not
-- granted it access (at most once per RefusalEvery and customer org).
CREATE TABLE grant_notices (
    reseller_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    customer_org_id bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    told_at         timestamptz NOT NULL,
    PRIMARY KEY (reseller_id, customer_org_id)
);

-- Case events 'released' and 'discarded', extended from the current
-- definition so that values other migrations added stay allowed.
DO $$
DECLARE
    v text;
BEGIN
    FOREACH v IN ARRAY ARRAY['released', 'discarded'] LOOP
        PERFORM 1 FROM pg_constraint WHERE conrelid = 'case_events'::regclass AND conname = 'case_events_kind_check'
            AND pg_get_constraintdef(oid) LIKE '%ARRAY[%' AND pg_get_constraintdef(oid) NOT LIKE '%''' || v || '''::text%';
        IF FOUND THEN
            EXECUTE format('ALTER TABLE case_events DROP CONSTRAINT case_events_kind_check, ADD CONSTRAINT case_events_kind_check %s',
                (SELECT replace(pg_get_constraintdef(oid), 'ARRAY[', 'ARRAY[' || quote_literal(v) || '::text, ')
                 FROM pg_constraint WHERE conrelid = 'case_events'::regclass AND conname = 'case_events_kind_check'));
        END IF;
    END LOOP;
END
$$;
