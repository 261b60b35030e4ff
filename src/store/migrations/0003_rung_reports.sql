-- 0003: early stopping (ASHA, Hyperband).
--
-- studies.pruner: the pruner's settings as JSON (kind, min_steps,
-- reduction_factor, brackets), NULL for a study that trains every trial to
-- the end, as every study of an earlier release did.
--
-- rung_reports: a trial's validation loss at a rung of its bracket, the
-- costs it was ranked with there, and the decision taken in the transaction
-- that recorded it. Decisions are read back, never recomputed: a design
-- retried after a crash gets the decision its first trial got, so a resumed
-- study keeps the decisions it made. Earlier stores have no reports and need
-- no data moved.

ALTER TABLE studies ADD COLUMN pruner TEXT;

CREATE TABLE rung_reports (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
    trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
    bracket  INTEGER NOT NULL CHECK (bracket >= 0),
    step     INTEGER NOT NULL CHECK (step > 0),
    value    REAL,
    -- JSON array of the costs, in the study's objective order.
    costs    TEXT    NOT NULL,
    promoted INTEGER NOT NULL CHECK (promoted IN (0, 1)),
    UNIQUE (trial_id, bracket, step)
);

CREATE INDEX rung_reports_by_rung ON rung_reports (study_id, bracket, step);
