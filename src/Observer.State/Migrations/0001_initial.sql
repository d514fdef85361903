-- Observer state, schema 1.
-- Everything hangs off a replica, so several replicas of one primary (and later a delayed
-- replica, or an archive that never deletes) each keep their own maps and checkpoints.

CREATE TABLE replicas (
    id               INTEGER PRIMARY KEY,
    name             TEXT    NOT NULL UNIQUE,
    -- 'mirror' follows the primary exactly; 'archive' (later) never deletes.
    mode             TEXT    NOT NULL DEFAULT 'mirror',
    -- A delayed replica (later) applies changes this many seconds after they happen.
    delay_seconds    INTEGER NOT NULL DEFAULT 0,
    -- Where the maps point, so a changed configuration is noticed instead of trusted.
    primary_endpoint TEXT    NOT NULL,
    replica_endpoint TEXT    NOT NULL,
    created_at       TEXT    NOT NULL
);

CREATE TABLE folders (
    id                   INTEGER PRIMARY KEY,
    replica_id           INTEGER NOT NULL REFERENCES replicas(id) ON DELETE CASCADE,
    primary_name         TEXT    NOT NULL,
    replica_name         TEXT    NOT NULL,
    -- Checkpoint of the primary as of the last complete sync of this folder.
    primary_uidvalidity  INTEGER,
    primary_uidnext      INTEGER,
    primary_modseq       INTEGER,
    primary_messages     INTEGER,
    -- The replica as we left it, to notice changes made behind our back.
    replica_uidvalidity  INTEGER,
    replica_uidnext      INTEGER,
    replica_modseq       INTEGER,
    replica_messages     INTEGER,
    last_synced_at       TEXT,
    -- Set when a change is seen on the primary and cleared when it is replicated: the lag.
    dirty_since          TEXT,
    UNIQUE (replica_id, primary_name)
);

-- One row per primary message copied to the replica.
CREATE TABLE messages (
    folder_id      INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    primary_uid    INTEGER NOT NULL,
    replica_uid    INTEGER NOT NULL,
    md5            BLOB    NOT NULL,
    size           INTEGER NOT NULL,
    internal_date  INTEGER,
    -- The flags both copies carried when last synced (without \Recent).
    flags          TEXT    NOT NULL,
    message_id     TEXT,
    -- Set when the primary expunged the message and the replica copy waits to be removed. The wait
    -- lets a move (expunge here, same bytes there) be replayed as a MOVE; it survives a crash.
    vanished_at    TEXT,
    PRIMARY KEY (folder_id, primary_uid)
) WITHOUT ROWID;

CREATE INDEX messages_by_replica_uid ON messages (folder_id, replica_uid);
CREATE INDEX messages_by_md5 ON messages (md5);
CREATE INDEX messages_by_message_id ON messages (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX messages_vanished ON messages (vanished_at) WHERE vanished_at IS NOT NULL;

-- Every replica write is recorded here as begun before it is sent, and as done after.
-- A row still 'begun' after a crash says where to look for a copy that may exist.
CREATE TABLE journal (
    id            INTEGER PRIMARY KEY,
    replica_id    INTEGER NOT NULL REFERENCES replicas(id) ON DELETE CASCADE,
    folder        TEXT    NOT NULL,
    operation     TEXT    NOT NULL,
    primary_uid   INTEGER,
    md5           BLOB,
    size          INTEGER,
    message_id    TEXT,
    detail        TEXT,
    state         TEXT    NOT NULL DEFAULT 'begun',
    begun_at      TEXT    NOT NULL,
    done_at       TEXT
);

CREATE INDEX journal_open ON journal (replica_id, state);

-- Folders that failed and are retried with backoff while the others go on.
CREATE TABLE troubles (
    replica_id    INTEGER NOT NULL REFERENCES replicas(id) ON DELETE CASCADE,
    folder        TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    error         TEXT    NOT NULL,
    since         TEXT    NOT NULL,
    last_attempt  TEXT    NOT NULL,
    attempts      INTEGER NOT NULL,
    next_attempt  TEXT    NOT NULL,
    PRIMARY KEY (replica_id, folder)
);

-- What the running service reports about itself, for `observer status`.
CREATE TABLE service (
    replica_id        INTEGER PRIMARY KEY REFERENCES replicas(id) ON DELETE CASCADE,
    pid               INTEGER,
    started_at        TEXT,
    heartbeat_at      TEXT,
    primary_state     TEXT,
    replica_state     TEXT,
    watch_mode        TEXT,
    last_error        TEXT
);
