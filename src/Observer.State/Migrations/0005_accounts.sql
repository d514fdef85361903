-- Schema 5: one state database for every account a service replicates. A replica is now named within
-- its account ('' for the single account of a settings file without an Accounts list), so each account
-- keeps its own maps, checkpoints, journal, troubles, holds and service row, as every table hangs off
-- a replica. SQLite cannot change a UNIQUE constraint in place: the table is rebuilt with the same ids,
-- under foreign_keys = OFF (SchemaMigrator), so the rows that refer to it stay as they are.
CREATE TABLE replicas_new (
    id               INTEGER PRIMARY KEY,
    account          TEXT    NOT NULL DEFAULT '',
    name             TEXT    NOT NULL,
    mode             TEXT    NOT NULL DEFAULT 'mirror',
    delay_seconds    INTEGER NOT NULL DEFAULT 0,
    primary_endpoint TEXT    NOT NULL,
    replica_endpoint TEXT    NOT NULL,
    created_at       TEXT    NOT NULL,
    UNIQUE (account, name)
);
INSERT INTO replicas_new (id, account, name, mode, delay_seconds, primary_endpoint, replica_endpoint, created_at)
    SELECT id, '', name, mode, delay_seconds, primary_endpoint, replica_endpoint, created_at FROM replicas;
DROP TABLE replicas;
ALTER TABLE replicas_new RENAME TO replicas;
