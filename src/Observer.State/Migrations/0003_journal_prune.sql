-- Schema 3: finished journal entries are pruned after a retention (JournalRepository.Prune).
-- Without this index the prune would read every row, the open ones and the recent ones too.
CREATE INDEX journal_finished ON journal (replica_id, done_at) WHERE state <> 'begun';
