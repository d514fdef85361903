-- Deletions the delete guard held back. Only the deletions wait: new mail and flag changes in the
-- folder go on. A hold waits for an admin's approval (`observer approve`), which a running service
-- reads from here, or goes away by itself when the primary no longer asks for the deletion.
CREATE TABLE holds (
    replica_id   INTEGER NOT NULL REFERENCES replicas(id) ON DELETE CASCADE,
    folder       TEXT    NOT NULL,
    -- 'messages': messages to delete in the folder; 'folder': the folder itself is to be deleted.
    kind         TEXT    NOT NULL,
    count        INTEGER NOT NULL,
    reason       TEXT    NOT NULL,
    since        TEXT    NOT NULL,
    approved_at  TEXT,
    PRIMARY KEY (replica_id, folder, kind)
);
