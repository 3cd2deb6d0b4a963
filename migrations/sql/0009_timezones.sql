-- Time zones of outgoing mail (issue 12 §4): times in a customer's mail are
-- shown in the user's own zone, else their org's, else HELPDESK_TIMEZONE;
-- in an agent's mail in the agent's own zone, else HELPDESK_TIMEZONE.
-- IANA names (Asia/Seoul), checked by the CLI; NULL: not set.
ALTER TABLE users ADD COLUMN timezone text;
ALTER TABLE orgs ADD COLUMN timezone text;
