-- Schema 6: replicas with policies (issue 12).
-- The single replica of a settings file was called 'default'; it is now 'replica', the name the
-- Replicas list gives it when a second one joins. A database that somehow has both keeps both.
UPDATE replicas SET name = 'replica'
    WHERE name = 'default' AND NOT EXISTS (SELECT 1 FROM replicas r WHERE r.account = replicas.account AND r.name = 'replica');

-- A delayed replica deletes a folder only once it has been gone from the primary for the whole delay,
-- which may be a day: when it was first seen gone is kept here, so a restart does not start the clock again.
ALTER TABLE folders ADD COLUMN gone_since TEXT;

-- Copies an archive keeps after the primary expunged them. They leave the messages table (which maps
-- the primary's live messages), but their replica UIDs stay known, so they are never taken for strays;
-- and by their bytes and date, a message that comes back to the primary (moved late, restored) is moved
-- there from the archive's kept copy rather than uploaded beside it.
CREATE TABLE kept_messages (
    folder_id     INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    replica_uid   INTEGER NOT NULL,
    primary_uid   INTEGER NOT NULL,
    md5           BLOB    NOT NULL,
    size          INTEGER NOT NULL,
    internal_date INTEGER,
    flags         TEXT    NOT NULL,
    kept_at       TEXT    NOT NULL,
    PRIMARY KEY (folder_id, replica_uid)
) WITHOUT ROWID;

CREATE INDEX kept_messages_by_md5 ON kept_messages (md5);
