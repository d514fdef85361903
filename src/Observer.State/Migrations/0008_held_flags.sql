-- Schema 8: flags a delayed replica has not removed yet (issue 12). An added flag goes at once; a flag the primary
-- removed stays on the replica copy until the removal is older than the delay. One row per message and flag, each
-- with its own clock; messages.flags records what the copy carries, the primary's flags and these. The rows go with
-- their message (an expunge, a changed UIDVALIDITY, a forgotten replica) and once the removal is applied.
CREATE TABLE held_flags (
    folder_id    INTEGER NOT NULL,
    primary_uid  INTEGER NOT NULL,
    flag         TEXT    NOT NULL,
    since        TEXT    NOT NULL,
    PRIMARY KEY (folder_id, primary_uid, flag),
    FOREIGN KEY (folder_id, primary_uid) REFERENCES messages (folder_id, primary_uid) ON DELETE CASCADE ON UPDATE CASCADE
) WITHOUT ROWID;
