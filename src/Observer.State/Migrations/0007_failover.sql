-- Schema 7: failover and failback (issue 12).
-- Which server is the primary now, after `observer promote`: the name of a replica of the settings, or
-- the settings' own primary (Replication:PrimaryName). No row: the settings' primary, as before.
CREATE TABLE roles (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    primary_name  TEXT    NOT NULL,
    since         TEXT    NOT NULL
);

-- One promotion, per account: who was the primary, who is now, and whether it was forced (the old
-- primary unreachable).
CREATE TABLE failovers (
    id             INTEGER PRIMARY KEY,
    account        TEXT    NOT NULL,
    old_primary    TEXT    NOT NULL,
    new_primary    TEXT    NOT NULL,
    promoted_at    TEXT    NOT NULL,
    forced         INTEGER NOT NULL
);

-- The servers of a promotion that may hold mail the new primary lacks: the old primary, and every other
-- mirror (a mirror deletes what its primary lacks). Until a server's row is reconciled, nothing is written
-- to it: its messages since the failover point are compared with the new primary's and copied back first.
CREATE TABLE failover_checks (
    failover_id    INTEGER NOT NULL REFERENCES failovers(id) ON DELETE CASCADE,
    server         TEXT    NOT NULL,
    reconciled_at  TEXT,
    PRIMARY KEY (failover_id, server)
);

-- The failover point: the promoted replica's UID map as it stood, old primary to new primary. A message
-- of the old primary found here was replicated before the failover; one that is not came after it.
CREATE TABLE failover_messages (
    failover_id      INTEGER NOT NULL REFERENCES failovers(id) ON DELETE CASCADE,
    old_folder       TEXT    NOT NULL,
    new_folder       TEXT    NOT NULL,
    old_uidvalidity  INTEGER,
    old_uid          INTEGER NOT NULL,
    new_uidvalidity  INTEGER,
    new_uid          INTEGER NOT NULL,
    md5              BLOB    NOT NULL,
    flags            TEXT    NOT NULL
);

CREATE INDEX failover_messages_by_folder ON failover_messages (failover_id, old_folder);

-- What the copy-back took from a server to the new primary, for `observer report split-brain`.
CREATE TABLE failover_copies (
    failover_id    INTEGER NOT NULL REFERENCES failovers(id) ON DELETE CASCADE,
    server         TEXT    NOT NULL,
    folder         TEXT    NOT NULL,
    -- What was copied, so that no other server (nor a later comparison) copies the same message back again.
    md5            BLOB    NOT NULL,
    internal_date  TEXT,
    sender         TEXT,
    subject        TEXT,
    size           INTEGER NOT NULL,
    copied_at      TEXT    NOT NULL
);

-- `observer drain`: when each replica of an account was last brought to zero lag and verified, and the outcome.
CREATE TABLE drains (
    account     TEXT    NOT NULL,
    replica     TEXT    NOT NULL,
    drained_at  TEXT    NOT NULL,
    identical   INTEGER NOT NULL,
    detail      TEXT    NOT NULL,
    PRIMARY KEY (account, replica)
);
