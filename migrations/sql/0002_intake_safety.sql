-- Intake safety: malformed Message-IDs keep their original text, replies that
-- arrive before their parent wait briefly, and repeated temporary failures of
-- one message are counted so that it can never hold the mailbox.

-- A malformed Message-ID: the field as written (for `why`) and its canonical
-- stand-in, which replies naming it carry (for threading). message_id is then
-- derived from the content, so two mails with one broken id stay two.
ALTER TABLE messages ADD COLUMN original_message_id text NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN thread_alias text NOT NULL DEFAULT '';
CREATE INDEX messages_thread_alias ON messages (thread_alias) WHERE thread_alias <> '';

-- 'waiting': a reply whose parent we have not seen yet, decided again shortly.
-- 'throttled': stored without a case or acknowledgement (a sender over its limit).
ALTER TABLE messages DROP CONSTRAINT messages_decision_check;
ALTER TABLE messages ADD CONSTRAINT messages_decision_check
    CHECK (decision IN ('', 'new_case', 'comment', 'follow_up', 'held', 'stored', 'ignored', 'refused',
                        'oversized', 'failed', 'sent', 'waiting', 'throttled'));
CREATE INDEX messages_waiting ON messages (id) WHERE decision = 'waiting';

-- Failed attempts at a message still in the mailbox. Rows of committed UIDs
-- are purged when the next failure is recorded.
CREATE TABLE inbound_attempts (
    mailbox      text   NOT NULL,
    uid_validity bigint NOT NULL,
    uid          bigint NOT NULL,
    attempts     int    NOT NULL CHECK (attempts > 0),
    last_error   text   NOT NULL DEFAULT '',
    first_at     timestamptz NOT NULL,
    last_at      timestamptz NOT NULL,
    PRIMARY KEY (mailbox, uid_validity, uid)
);
