-- Scale (issue 12): reads answered from SQLite, never by asking Mattermost per incident.

-- Who is in each incident channel, as warroom follows it: seeded by one member listing per
-- channel (at the start and by every re-sync), then kept by the websocket's user_added and
-- user_removed events. A channel with no row in channel_membership is unknown.
CREATE TABLE channel_members (
    channel_id TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    PRIMARY KEY (channel_id, user_id)
) WITHOUT ROWID;
CREATE INDEX channel_members_user ON channel_members (user_id, channel_id);

-- When each channel's members were last listed in full (ms). Rows listed before the current
-- event stream began may have missed events: stale until the re-sync lists them again.
CREATE TABLE channel_membership (
    channel_id TEXT PRIMARY KEY,
    synced_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- What list and stats filter and group on, as columns (kept by the incident store).
ALTER TABLE incidents ADD COLUMN private INTEGER NOT NULL DEFAULT 1;
ALTER TABLE incidents ADD COLUMN channel_name TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN severity TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN playbook_title TEXT NOT NULL DEFAULT '';
UPDATE incidents SET
    private = coalesce(json_extract(body, '$.private_channel'), 1),
    channel_name = coalesce(json_extract(body, '$.channel_name'), ''),
    severity = coalesce(json_extract(body, '$.severity'), ''),
    playbook_title = coalesce(json_extract(body, '$.playbook_title'), '');
CREATE INDEX incidents_team_channel_name ON incidents (team_id, channel_name, created_at);
-- Covering indexes: list and stats filter and group without reading any incident's body
-- (they replace the narrower ones of the same prefix, which the planner would prefer).
DROP INDEX incidents_team_status;
DROP INDEX incidents_team_ended;
CREATE INDEX incidents_team_status_cover ON incidents
    (team_id, status, created_at, private, channel_id);
CREATE INDEX incidents_team_stats ON incidents
    (team_id, status, playbook_title, severity, private, channel_id, created_at);
CREATE INDEX incidents_team_ended_cover ON incidents
    (team_id, ended_at, status, private, channel_id, playbook_title, severity, created_at);
