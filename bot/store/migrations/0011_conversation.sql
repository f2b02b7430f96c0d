-- Chat messages warroom has answered (a message delivered twice runs once), and the
-- signal offers made (one per thread and playbook). Numbered 0011 so that migrations
-- written in parallel (0006-0010) keep their places; versions need not be contiguous.

CREATE TABLE chat_seen (
    post_id TEXT PRIMARY KEY,
    seen_at INTEGER NOT NULL
);
CREATE INDEX chat_seen_at ON chat_seen (seen_at);

-- Direct channels people talked to warroom in: re-read after a websocket gap.
CREATE TABLE chat_dms (
    channel_id TEXT PRIMARY KEY,
    last_at    INTEGER NOT NULL
);

CREATE TABLE signal_offers (
    root_id     TEXT NOT NULL,   -- the thread (the root post's id)
    playbook_id TEXT NOT NULL,
    post_id     TEXT NOT NULL,   -- the message that matched
    offered_at  INTEGER NOT NULL,
    PRIMARY KEY (root_id, playbook_id)
);
