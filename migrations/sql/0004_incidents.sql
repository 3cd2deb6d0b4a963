-- Intake alarms (helpdeskd serve): a mailbox that cannot be polled, an outbox
-- whose oldest due mail waits too long. One row per incident; at most one
-- open incident per key (e.g. 'mailbox support/INBOX', 'outbox'), so that of
-- several daemons only the one whose INSERT won mails the operator, and only
-- the one whose UPDATE closed it mails the recovery.
CREATE TABLE incidents (
    id          bigserial PRIMARY KEY,
    key         text NOT NULL CHECK (key <> ''),
    problem     text NOT NULL DEFAULT '',
    started_at  timestamptz NOT NULL,  -- when the failure began
    opened_at   timestamptz NOT NULL,  -- when the alarm was raised
    resolved_at timestamptz,
    CHECK (resolved_at IS NULL OR resolved_at >= opened_at)
);
CREATE UNIQUE INDEX incidents_open_key ON incidents (key) WHERE resolved_at IS NULL;
