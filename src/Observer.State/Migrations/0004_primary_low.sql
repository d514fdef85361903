-- Schema 4: the fewest messages the primary folder held at a sync within the delete guard's window,
-- and when that was seen. A folder whose size swings (a busy shared inbox) has been this small before:
-- meeting it there after a restart is churn, not a broken primary.
ALTER TABLE folders ADD COLUMN primary_low INTEGER;
ALTER TABLE folders ADD COLUMN primary_low_at TEXT;
