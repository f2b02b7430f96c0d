-- Outgoing webhook deliveries (issue 14): written in the transaction of the change that
-- caused them, delivered by a background worker, kept as the delivery log. Numbered 0014
-- (the issue) so migrations written in parallel keep their places.

CREATE TABLE webhook_deliveries (
    id           TEXT PRIMARY KEY,  -- the event id (Warroom-Event-Id): receivers drop repeats
    incident_id  TEXT NOT NULL,
    playbook_id  TEXT NOT NULL,
    url          TEXT NOT NULL,
    secret_env   TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    body         TEXT NOT NULL,      -- the JSON sent, byte for byte the same on every attempt
    created_at   INTEGER NOT NULL,
    state        TEXT NOT NULL,      -- pending | delivered | failed | disabled
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      INTEGER NOT NULL,
    last_status  INTEGER,            -- the receiver's last HTTP status, NULL: no answer
    last_error   TEXT NOT NULL DEFAULT '',
    settled_at   INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_at);
CREATE INDEX webhook_deliveries_incident ON webhook_deliveries (incident_id, created_at);

-- Endpoints that answered 410 Gone: nothing more is sent there (per playbook and URL).
CREATE TABLE webhook_disabled (
    playbook_id  TEXT NOT NULL,
    url          TEXT NOT NULL,
    at           INTEGER NOT NULL,
    PRIMARY KEY (playbook_id, url)
);
