-- Timers by due time, the indexes the operator's queries and `why` need,
-- and text search over subjects and comments (issue 15).

-- When the next timer of a case is due (lifecycle.NextDue under the running
-- policy); NULL: none scheduled. A timer pass reads only the due ones.
-- Existing cases that may have timers are due at once, so that the first
-- pass computes theirs.
ALTER TABLE cases ADD COLUMN next_timer_at timestamptz;
UPDATE cases SET next_timer_at = now() WHERE status <> 'closed';
CREATE INDEX cases_next_timer_idx ON cases (next_timer_at, id) WHERE next_timer_at IS NOT NULL;

-- The lifecycle policy next_timer_at was computed under (a fingerprint); a
-- daemon with another policy recomputes it for every case.
CREATE TABLE timer_policy (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    fingerprint text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The old timer scans are gone; the survey scan reads only the cases still
-- waiting for a survey.
DROP INDEX cases_pending_idx;
DROP INDEX cases_solved_idx;
DROP INDEX cases_sla_due_idx;
CREATE INDEX cases_survey_due_idx ON cases (solved_at)
    WHERE status = 'solved' AND survey_sent_at IS NULL AND merged_into IS NULL AND solved_reason <> 'no response';

-- `cases list` (most recently active first) and `why` (a message's events).
CREATE INDEX cases_activity_idx ON cases (last_activity_at DESC, id DESC);
CREATE INDEX case_events_message_idx ON case_events (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX messages_original_id_idx ON messages (original_message_id) WHERE original_message_id <> '';

-- `cases list --search`: pg_trgm for substrings of three characters or
-- more (English partial words, Korean inside a longer eojeol), the 'simple'
-- full-text configuration for shorter words (a two-syllable Korean noun
-- followed by its particle: 결제 in 결제가). pg_trgm is a trusted extension;
-- it is created once per database, in public when this role may create
-- there, and its operator class is named with its schema.
DO $$
DECLARE
    s text;
BEGIN
    SELECT extnamespace::regnamespace::text INTO s FROM pg_extension WHERE extname = 'pg_trgm';
    IF s IS NULL THEN
        s := CASE WHEN has_schema_privilege('public', 'CREATE') THEN 'public' ELSE current_schema() END;
        BEGIN
            EXECUTE format('CREATE EXTENSION pg_trgm WITH SCHEMA %I', s);
        EXCEPTION WHEN unique_violation OR duplicate_object THEN
            -- Another migration created it meanwhile.
            SELECT extnamespace::regnamespace::text INTO s FROM pg_extension WHERE extname = 'pg_trgm';
        END;
    END IF;
    EXECUTE format('CREATE INDEX cases_subject_trgm_idx ON cases USING gin (subject %s.gin_trgm_ops)', s);
    EXECUTE format('CREATE INDEX comments_body_trgm_idx ON comments USING gin (body %s.gin_trgm_ops)', s);
END
$$;
CREATE INDEX cases_subject_words_idx ON cases USING gin (to_tsvector('simple', subject));
CREATE INDEX comments_body_words_idx ON comments USING gin (to_tsvector('simple', body));
