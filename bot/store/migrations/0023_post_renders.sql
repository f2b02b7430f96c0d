-- Re-sync proportional to what changed (issue 12): what each post warroom keeps in place
-- (the summary card, every checklist page) was last set to, so a re-sync after a reconnect or
-- a restart re-renders locally and sends only the posts whose content differs. ``digest`` is
-- bot/interactions/buttons.post_digest of the comparable render; ``sent_at`` in ms (buttons
-- are renewed before their tokens expire). A post that is not here is sent at the next sync.
CREATE TABLE post_renders (
    post_id     TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL,
    digest      TEXT NOT NULL,
    sent_at     INTEGER NOT NULL
) WITHOUT ROWID;
