-- Internal notes are their own kind of comment (issue 12 §3): an agent's
-- #internal note was stored as held (public = false, held = true), like
-- mail kept for review. A note is now internal; held stays for mail from a
-- sender not allowed on the case.
ALTER TABLE comments ADD COLUMN internal boolean NOT NULL DEFAULT false;

-- Old notes: a non-public comment whose mail was decided as a comment (held
-- mail is decided 'held'), or one that came from no mail at all.
UPDATE comments c SET internal = true, held = false
WHERE NOT c.public AND (c.message_id IS NULL
    OR EXISTS (SELECT 1 FROM messages m WHERE m.id = c.message_id AND m.decision <> 'held'));

ALTER TABLE comments ADD CONSTRAINT comments_visibility_check
    CHECK (NOT (internal AND (public OR held)));
