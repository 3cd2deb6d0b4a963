-- Self-service by mail (issue 13 sections 1 and 2).

-- Inbound decision 'self_service': a "my cases" request or a known-issue
-- subscription change, answered (or not) without a case of its own. The
-- constraint is extended from its current definition, so values other
-- migrations added stay allowed.
DO $$
BEGIN
    PERFORM 1 FROM pg_constraint WHERE conrelid = 'messages'::regclass AND conname = 'messages_decision_check'
        AND pg_get_constraintdef(oid) LIKE '%ARRAY[%' AND pg_get_constraintdef(oid) NOT LIKE '%''self_service''::text%';
    IF FOUND THEN
        EXECUTE format('ALTER TABLE messages DROP CONSTRAINT messages_decision_check, ADD CONSTRAINT messages_decision_check %s',
            (SELECT replace(pg_get_constraintdef(oid), 'ARRAY[', 'ARRAY[''self_service''::text, ')
             FROM pg_constraint WHERE conrelid = 'messages'::regclass AND conname = 'messages_decision_check'));
    END IF;
END
$$;

-- The per-address limit on self-service requests counts recent ones.
CREATE INDEX messages_self_service_idx ON messages (from_address, created_at)
    WHERE direction = 'in' AND decision = 'self_service';

-- A known issue's text and product; its updates and resolution, in order.
ALTER TABLE known_issues
    ADD COLUMN body    text NOT NULL DEFAULT '',
    ADD COLUMN product text NOT NULL DEFAULT '';

CREATE TABLE known_issue_updates (
    id             bigserial PRIMARY KEY,
    known_issue_id bigint NOT NULL REFERENCES known_issues (id) ON DELETE CASCADE,
    kind           text NOT NULL CHECK (kind IN ('update', 'resolution')),
    body           text NOT NULL CHECK (btrim(body) <> ''),
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX known_issue_updates_issue_idx ON known_issue_updates (known_issue_id, id);

CREATE INDEX cases_known_issue_idx ON cases (known_issue_id) WHERE known_issue_id IS NOT NULL;
