-- Status updates and their durable reminders.

CREATE TABLE status_updates (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id       TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    author_id         TEXT NOT NULL,
    message           TEXT NOT NULL,          -- the update as it reads now (edits followed)
    post_id           TEXT NOT NULL UNIQUE,   -- the bot's post in the incident channel
    broadcast_post_id TEXT NOT NULL DEFAULT '',
    reminder_seconds  INTEGER NOT NULL DEFAULT 0,  -- the author's choice; 0 = none
    created_at        INTEGER NOT NULL,
    deleted_at        INTEGER                 -- set when the post was deleted in Mattermost
);
CREATE INDEX status_updates_incident ON status_updates (incident_id, created_at, id);

-- pending -> firing (claimed) -> posted (reminder post made) -> closing (post being removed)
-- -> closed. A pending or firing row may go straight to closed (cancelled before posting).
CREATE TABLE reminders (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    channel_id  TEXT NOT NULL,
    due_at      INTEGER NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'firing', 'posted', 'closing', 'closed')),
    post_id     TEXT NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
);
CREATE INDEX reminders_due ON reminders (due_at, id) WHERE state = 'pending';
CREATE INDEX reminders_open ON reminders (incident_id) WHERE state != 'closed';
CREATE INDEX reminders_unsettled ON reminders (state) WHERE state IN ('firing', 'closing');
