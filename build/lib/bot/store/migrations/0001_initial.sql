-- warroom schema, version 1: installation, playbooks, incidents, timeline, nonces.

CREATE TABLE installation (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE playbooks (
    id         TEXT PRIMARY KEY,
    team_id    TEXT NOT NULL,
    title      TEXT NOT NULL,
    source     TEXT NOT NULL CHECK (source IN ('file', 'chat')),
    body       TEXT NOT NULL,          -- the Playbook model as JSON
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX playbooks_team_title ON playbooks (team_id, lower(title));

CREATE TABLE incidents (
    id           TEXT PRIMARY KEY,
    team_id      TEXT NOT NULL,
    channel_id   TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('ongoing', 'ended')),
    commander_id TEXT NOT NULL,
    playbook_id  TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    ended_at     INTEGER,
    version      INTEGER NOT NULL DEFAULT 0,
    body         TEXT NOT NULL          -- the Incident model as JSON (stages and tasks included)
);
CREATE INDEX incidents_team_status ON incidents (team_id, status, created_at);

CREATE TABLE commander_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL,
    since       INTEGER NOT NULL,
    set_by      TEXT NOT NULL
);
CREATE INDEX commander_history_incident ON commander_history (incident_id, since);

CREATE TABLE timeline_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    at          INTEGER NOT NULL,
    actor_id    TEXT NOT NULL DEFAULT '',
    data        TEXT NOT NULL DEFAULT '{}',
    dedupe_key  TEXT                    -- set for events that must never be recorded twice
);
CREATE INDEX timeline_incident_at ON timeline_events (incident_id, at, id);
CREATE UNIQUE INDEX timeline_dedupe ON timeline_events (incident_id, dedupe_key)
    WHERE dedupe_key IS NOT NULL;

-- One-shot tokens (dialog states, confirmations): a second use is a replay.
CREATE TABLE used_nonces (
    nonce      TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
