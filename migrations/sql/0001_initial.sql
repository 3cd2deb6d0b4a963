-- The whole data model of DESIGN.md section 2. Forward-only: change it with a new file.

CREATE TABLE orgs (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL CHECK (btrim(name) <> ''),
    plan       text NOT NULL DEFAULT 'basic' CHECK (plan IN ('basic', 'advanced', 'premium')),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX orgs_name_key ON orgs (lower(name));

-- A mail domain belongs to at most one org (the "domain" unknown-sender policy maps by it).
CREATE TABLE org_domains (
    domain text PRIMARY KEY CHECK (domain = lower(domain) AND domain ~ '^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$'),
    org_id bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE
);
CREATE INDEX org_domains_org_idx ON org_domains (org_id);

CREATE TABLE users (
    id          bigserial PRIMARY KEY,
    login_email text NOT NULL CHECK (login_email = lower(login_email) AND login_email ~ '^[^@\s]+@[^@\s]+$'),
    name        text NOT NULL DEFAULT '',
    role        text NOT NULL CHECK (role IN ('customer', 'contact', 'reseller', 'agent', 'manager')),
    locale      text NOT NULL DEFAULT 'en' CHECK (locale IN ('en', 'ko')),
    org_id      bigint REFERENCES orgs (id),
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_login_email_key ON users (login_email);
CREATE INDEX users_org_idx ON users (org_id);

-- Further addresses a user writes from; they identify the user but never receive notifications.
CREATE TABLE user_addresses (
    address     text PRIMARY KEY CHECK (address = lower(address) AND address ~ '^[^@\s]+@[^@\s]+$'),
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    verified_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_addresses_user_idx ON user_addresses (user_id);

-- A customer org lets a reseller org see and act on its cases while revoked_at is NULL.
CREATE TABLE grants (
    customer_org_id bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    reseller_org_id bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    granted_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz,
    PRIMARY KEY (customer_org_id, reseller_org_id),
    CHECK (customer_org_id <> reseller_org_id)
);
CREATE INDEX grants_reseller_idx ON grants (reseller_org_id) WHERE revoked_at IS NULL;

CREATE TABLE known_issues (
    id          bigserial PRIMARY KEY,
    title       text NOT NULL CHECK (btrim(title) <> ''),
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    CHECK ((status = 'resolved') = (resolved_at IS NOT NULL))
);

CREATE TABLE cases (
    id                    bigserial PRIMARY KEY,
    subject               text NOT NULL DEFAULT '',
    status                text NOT NULL DEFAULT 'open'
                          CHECK (status IN ('open', 'pending', 'on_hold', 'solved', 'closed')),
    severity              text NOT NULL DEFAULT 'S3' CHECK (severity IN ('S1', 'S2', 'S3', 'S4')),
    org_id                bigint REFERENCES orgs (id),
    submitter_id          bigint NOT NULL REFERENCES users (id),
    assignee_id           bigint REFERENCES users (id),
    follow_up_of          bigint REFERENCES cases (id),
    merged_into           bigint REFERENCES cases (id),
    known_issue_id        bigint REFERENCES known_issues (id),
    mailbox               text NOT NULL DEFAULT '',
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    last_activity_at      timestamptz NOT NULL DEFAULT now(),
    first_response_at     timestamptz,
    first_response_due_at timestamptz,
    sla_warned_at         timestamptz,
    sla_breached_at       timestamptz,
    pending_since         timestamptz,
    reminders_sent        integer NOT NULL DEFAULT 0 CHECK (reminders_sent >= 0),
    solved_at             timestamptz,
    solved_reason         text NOT NULL DEFAULT '',
    survey_sent_at        timestamptz,
    closed_at             timestamptz,
    CHECK (merged_into IS NULL OR merged_into <> id),
    CHECK (follow_up_of IS NULL OR follow_up_of <> id),
    CHECK (status NOT IN ('solved', 'closed') OR solved_at IS NOT NULL),
    CHECK ((status = 'closed') = (closed_at IS NOT NULL)),
    CHECK (status <> 'pending' OR pending_since IS NOT NULL)
);
CREATE INDEX cases_status_idx ON cases (status, last_activity_at DESC);
CREATE INDEX cases_org_idx ON cases (org_id, last_activity_at DESC);
CREATE INDEX cases_submitter_idx ON cases (submitter_id);
CREATE INDEX cases_assignee_idx ON cases (assignee_id) WHERE assignee_id IS NOT NULL;
CREATE INDEX cases_follow_up_idx ON cases (follow_up_of) WHERE follow_up_of IS NOT NULL;
CREATE INDEX cases_merged_idx ON cases (merged_into) WHERE merged_into IS NOT NULL;
-- Timer scans: reminders and auto-solve, close after the reopen window, SLA due times.
CREATE INDEX cases_pending_idx ON cases (pending_since) WHERE status = 'pending';
CREATE INDEX cases_solved_idx ON cases (solved_at) WHERE status = 'solved';
CREATE INDEX cases_sla_due_idx ON cases (first_response_due_at)
    WHERE first_response_at IS NULL AND status NOT IN ('solved', 'closed');

-- People on a case besides the submitter, e.g. the customer a reseller wrote for, or Cc'd colleagues.
CREATE TABLE case_participants (
    case_id    bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    user_id    bigint NOT NULL REFERENCES users (id),
    role       text NOT NULL DEFAULT 'cc' CHECK (role IN ('cc', 'customer')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, user_id)
);
CREATE INDEX case_participants_user_idx ON case_participants (user_id);

CREATE TABLE known_issue_subscriptions (
    known_issue_id bigint NOT NULL REFERENCES known_issues (id) ON DELETE CASCADE,
    user_id        bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (known_issue_id, user_id)
);

-- Raw inbound mail, kept for reprocessing for a retention period. Stored in
-- chunks so that a large mail streams in and out with bounded memory.
CREATE TABLE raw_messages (
    id         bigserial PRIMARY KEY,
    size       bigint NOT NULL DEFAULT 0 CHECK (size >= 0),
    sha256     bytea CHECK (sha256 IS NULL OR length(sha256) = 32),
    truncated  boolean NOT NULL DEFAULT false,
    stored_at  timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz
);
CREATE INDEX raw_messages_expiry_idx ON raw_messages (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE raw_chunks (
    raw_id bigint NOT NULL REFERENCES raw_messages (id) ON DELETE CASCADE,
    seq    integer NOT NULL CHECK (seq >= 0),
    data   bytea NOT NULL,
    PRIMARY KEY (raw_id, seq)
);

-- Every Message-ID we know, inbound and outbound, with what was decided about it.
CREATE TABLE messages (
    id                bigserial PRIMARY KEY,
    message_id        text NOT NULL CHECK (message_id <> ''),
    direction         text NOT NULL CHECK (direction IN ('in', 'out')),
    case_id           bigint REFERENCES cases (id),
    mailbox           text NOT NULL DEFAULT '',
    uid_validity      bigint,
    uid               bigint,
    from_address      text NOT NULL DEFAULT '',
    subject           text NOT NULL DEFAULT '',
    in_reply_to       text NOT NULL DEFAULT '',
    refs              text[] NOT NULL DEFAULT '{}',
    thread_index_root text,
    raw_id            bigint REFERENCES raw_messages (id) ON DELETE SET NULL,
    class             text NOT NULL DEFAULT 'human'
                      CHECK (class IN ('human', 'auto-reply', 'bounce', 'list', 'loop')),
    class_reason      text NOT NULL DEFAULT '',
    decision          text NOT NULL DEFAULT ''
                      CHECK (decision IN ('', 'new_case', 'comment', 'follow_up', 'held', 'stored',
                                          'ignored', 'refused', 'oversized', 'failed', 'sent')),
    rule              text NOT NULL DEFAULT '',
    reason            text NOT NULL DEFAULT '',
    token_check       text NOT NULL DEFAULT '',
    sender_access     text NOT NULL DEFAULT '',
    size              bigint NOT NULL DEFAULT 0 CHECK (size >= 0),
    sent_at           timestamptz,
    received_at       timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    -- Duplicate delivery of the same mail is a no-op: one row per Message-ID and direction.
    UNIQUE (message_id, direction)
);
CREATE INDEX messages_case_idx ON messages (case_id, created_at);
CREATE INDEX messages_thread_index_idx ON messages (thread_index_root) WHERE thread_index_root IS NOT NULL;
CREATE INDEX messages_raw_idx ON messages (raw_id) WHERE raw_id IS NOT NULL;
CREATE INDEX messages_mailbox_uid_idx ON messages (mailbox, uid_validity, uid) WHERE uid IS NOT NULL;

CREATE TABLE comments (
    id         bigserial PRIMARY KEY,
    case_id    bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    author_id  bigint REFERENCES users (id),
    message_id bigint REFERENCES messages (id),
    public     boolean NOT NULL,
    held       boolean NOT NULL DEFAULT false,
    body       text NOT NULL,
    full_body  text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (NOT (held AND public))
);
CREATE INDEX comments_case_idx ON comments (case_id, created_at);
CREATE UNIQUE INDEX comments_message_key ON comments (message_id) WHERE message_id IS NOT NULL;

-- Attachment bytes, stored once per content hash (sha256 is set when the
-- content is complete), in chunks like raw mail.
CREATE TABLE blobs (
    id         bigserial PRIMARY KEY,
    sha256     bytea UNIQUE CHECK (sha256 IS NULL OR length(sha256) = 32),
    size       bigint NOT NULL DEFAULT 0 CHECK (size >= 0),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE blob_chunks (
    blob_id bigint NOT NULL REFERENCES blobs (id) ON DELETE CASCADE,
    seq     integer NOT NULL CHECK (seq >= 0),
    data    bytea NOT NULL,
    PRIMARY KEY (blob_id, seq)
);

CREATE TABLE attachments (
    id           bigserial PRIMARY KEY,
    comment_id   bigint NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    blob_id      bigint NOT NULL REFERENCES blobs (id),
    filename     text NOT NULL,
    content_type text NOT NULL DEFAULT 'application/octet-stream',
    size         bigint NOT NULL CHECK (size >= 0),
    truncated    boolean NOT NULL DEFAULT false,
    content_id   text NOT NULL DEFAULT '',
    inline       boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attachments_comment_idx ON attachments (comment_id);
CREATE INDEX attachments_blob_idx ON attachments (blob_id);

-- Rendered outgoing mail. Rows are written in the transaction that causes them.
CREATE TABLE outbox (
    id              bigserial PRIMARY KEY,
    message_id      text NOT NULL UNIQUE CHECK (message_id <> ''),
    case_id         bigint REFERENCES cases (id),
    kind            text NOT NULL,
    recipient_id    bigint REFERENCES users (id),
    envelope_from   text NOT NULL,
    recipients      text[] NOT NULL CHECK (cardinality(recipients) > 0),
    subject         text NOT NULL DEFAULT '',
    data            bytea NOT NULL,
    status          text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'suppressed')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_owner     text,
    lease_until     timestamptz,
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    CHECK (status <> 'sending' OR (lease_owner IS NOT NULL AND lease_until IS NOT NULL)),
    CHECK (status <> 'sent' OR sent_at IS NOT NULL)
);
-- Dispatcher claims: due queued rows, and rows whose lease expired.
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE status = 'queued';
CREATE INDEX outbox_lease_idx ON outbox (lease_until) WHERE status = 'sending';
-- Send budgets per case and per recipient.
CREATE INDEX outbox_case_idx ON outbox (case_id, created_at);
CREATE INDEX outbox_recipients_idx ON outbox USING gin (recipients);

-- Append-only audit of everything that happened to a case.
CREATE TABLE case_events (
    id         bigserial PRIMARY KEY,
    case_id    bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    actor_id   bigint REFERENCES users (id),
    kind       text NOT NULL CHECK (kind IN ('created', 'status', 'severity', 'assignee', 'comment',
                                             'merged', 'follow_up', 'escalated', 'reminder',
                                             'sla_warning', 'sla_breach', 'held', 'bounce',
                                             'suppressed', 'participant', 'known_issue', 'survey')),
    from_value text NOT NULL DEFAULT '',
    to_value   text NOT NULL DEFAULT '',
    reason     text NOT NULL DEFAULT '',
    message_id bigint REFERENCES messages (id),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_events_case_idx ON case_events (case_id, created_at);

CREATE TABLE mailbox_cursors (
    mailbox      text PRIMARY KEY,
    uid_validity bigint NOT NULL CHECK (uid_validity >= 0),
    last_uid     bigint NOT NULL DEFAULT 0 CHECK (last_uid >= 0),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE suppressions (
    address        text PRIMARY KEY CHECK (address = lower(address)),
    reason         text NOT NULL DEFAULT '',
    status_code    text NOT NULL DEFAULT '',
    case_id        bigint REFERENCES cases (id),
    message_id     bigint REFERENCES messages (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    suppressed_until timestamptz NOT NULL
);
