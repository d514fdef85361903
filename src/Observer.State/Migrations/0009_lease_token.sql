-- Schema 9: the journal records the fencing token of the lease a write was begun under. Only a state shared by
-- several workers on PostgreSQL has leases; on SQLite the column stays empty, and the schema version matches.
ALTER TABLE journal ADD COLUMN lease_token INTEGER;
