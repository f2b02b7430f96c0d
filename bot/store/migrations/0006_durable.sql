-- Durable starts and exactly-once posts (issue 10).

-- A start in progress, recorded before the channel is created: a kill or a lost answer
-- never leaves an orphan channel nor creates a second one, because the channel is looked up
-- by the name recorded here before it is created again.
-- creating -> created (incident saved) -> done (members added, posts made, reporter told);
-- creating -> failed (Mattermost refused the channel: the reporter is told).
CREATE TABLE starts (
    id           TEXT PRIMARY KEY,             -- the incident's id
    team_id      TEXT NOT NULL,
    channel_name TEXT NOT NULL,                -- reserved while creating
    state        TEXT NOT NULL DEFAULT 'creating'
                 CHECK (state IN ('creating', 'created', 'done', 'failed')),
    request      TEXT NOT NULL,                -- the StartRequest as JSON
    steps        TEXT NOT NULL DEFAULT '[]',   -- set-up steps done, as a JSON list
    created_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX starts_reserved_name ON starts (team_id, channel_name)
    WHERE state = 'creating';
CREATE INDEX starts_unfinished ON starts (state) WHERE state IN ('creating', 'created');

-- Posts warroom must make exactly once (the outbox). Recorded before posting, in the same
-- transaction as the change they belong to; each post carries its key in its props
-- (warroom_key), so a post whose answer was lost is found instead of being made again.
-- pending (the post may or may not exist) -> posted (post_id known) -> done (recorded where
-- it belongs); pending -> failed (Mattermost refused it for good).
CREATE TABLE effects (
    key         TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,                 -- who completes it: status, card, notice …
    incident_id TEXT NOT NULL DEFAULT '',
    channel_id  TEXT NOT NULL,
    message     TEXT NOT NULL,
    props       TEXT NOT NULL DEFAULT '{}',
    data        TEXT NOT NULL DEFAULT '{}',    -- what the completion records (JSON)
    state       TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'posted', 'done', 'failed')),
    post_id     TEXT NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
);
CREATE INDEX effects_unfinished ON effects (created_at) WHERE state IN ('pending', 'posted');
