-- Reads at scale (issue 12): what a caller may view is found from their own channels, not by
-- checking every ongoing incident of the team against them (5,000 at 10,000 incidents).

-- From a channel the caller is in to its incident, without reading the incident's row (its
-- body comes first in the row, so the columns added later sit behind it in overflow pages).
CREATE INDEX incidents_channel_cover ON incidents
    (channel_id, team_id, status, private, playbook_title, severity, created_at);
-- The public ongoing incidents of a team, grouped for stats, as one range of the index; it
-- replaces incidents_team_stats (private came after the grouping columns there, so the
-- public ones were found by reading every ongoing one).
DROP INDEX incidents_team_stats;
CREATE INDEX incidents_team_private_stats ON incidents
    (team_id, status, private, playbook_title, severity, created_at);
-- The REST API's listing (newest first by default, ties by id), paged in SQL: read in the
-- index's order and cut at the page, the visibility checked on the index alone.
CREATE INDEX incidents_team_created ON incidents
    (team_id, created_at, id, status, private, channel_id);
