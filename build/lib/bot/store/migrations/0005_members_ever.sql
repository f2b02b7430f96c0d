-- Everyone (non-bot) who was ever a member of an incident channel, for the review.

CREATE TABLE incident_members (
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL,
    first_seen  INTEGER NOT NULL,   -- when warroom first saw them in the channel
    last_seen   INTEGER NOT NULL,   -- last join/re-check while present, or when they left
    present     INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (incident_id, user_id)
);

-- Stats read incidents by team and time window.
CREATE INDEX incidents_team_ended ON incidents (team_id, ended_at);
