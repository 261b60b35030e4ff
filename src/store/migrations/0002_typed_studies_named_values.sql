-- 0002: the store keeps data, not guesses.
--
-- * studies.evaluator: which evaluator scores a study's trials. Earlier
--   releases did not store it, and `nas studies` told it from the trials'
--   throughput (the analytic evaluator trains nothing, so its tokens/s is 0).
--   That is the only evidence there is, so it fills the column once, here:
--   any complete trial without throughput makes the study 'analytic' (a
--   stand-in value must never pass for a measurement), otherwise any complete
--   trial makes it 'train'. A study with no complete trial stays NULL and the
--   next run that opens it records its own evaluator.
-- * trials.fail_kind: why a failed trial failed, which alone decides whether
--   it is retried. Existing failures are classified from the exact messages
--   earlier releases wrote for each kind; everything else is an 'error'.
-- * trial_values and curve_values: metrics and learning curves as named
--   values, so that a new measurement needs a new name, not a new column.
--   Every existing metric and curve point is copied, then the old columns and
--   the curves table are dropped. SQLite keeps NaN as NULL; readers turn a
--   NULL value back into NaN, as before.

ALTER TABLE studies ADD COLUMN evaluator TEXT
    CHECK (evaluator IS NULL OR evaluator IN ('train', 'analytic'));

UPDATE studies SET evaluator = CASE
    WHEN EXISTS (SELECT 1 FROM trials t
                 WHERE t.study_id = studies.id AND t.state = 'complete'
                   AND t.params IS NOT NULL AND COALESCE(t.tokens_per_s, 0) <= 0)
        THEN 'analytic'
    WHEN EXISTS (SELECT 1 FROM trials t
                 WHERE t.study_id = studies.id AND t.state = 'complete'
                   AND t.params IS NOT NULL)
        THEN 'train'
END;

ALTER TABLE trials ADD COLUMN fail_kind TEXT
    CHECK (fail_kind IS NULL OR fail_kind IN
           ('diverged', 'error', 'interrupted', 'worker_died', 'heartbeat_lost'));

UPDATE trials SET fail_kind = CASE
    WHEN error = 'interrupted' THEN 'interrupted'
    WHEN error LIKE 'heartbeat lost (worker %)' THEN 'heartbeat_lost'
    WHEN error LIKE 'worker % died (process gone)' THEN 'worker_died'
    WHEN error LIKE 'loss became % training diverged%' THEN 'diverged'
    ELSE 'error'
END
WHERE state = 'failed';

CREATE TABLE trial_values (
    trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
    name     TEXT    NOT NULL,
    value    REAL,
    PRIMARY KEY (trial_id, name)
);

INSERT INTO trial_values (trial_id, name, value)
    SELECT id, 'val_loss', val_loss FROM trials WHERE params IS NOT NULL
    UNION ALL SELECT id, 'val_ppl', val_ppl FROM trials WHERE params IS NOT NULL
    UNION ALL SELECT id, 'params', CAST(params AS REAL) FROM trials WHERE params IS NOT NULL
    UNION ALL SELECT id, 'flops_per_token', flops_per_token FROM trials WHERE params IS NOT NULL
    UNION ALL SELECT id, 'kv_cache_bytes', CAST(kv_cache_bytes AS REAL)
              FROM trials WHERE params IS NOT NULL
    UNION ALL SELECT id, 'ssm_state_bytes', CAST(ssm_state_bytes AS REAL)
              FROM trials WHERE params IS NOT NULL
    UNION ALL SELECT id, 'latency_ms', latency_ms FROM trials WHERE params IS NOT NULL
    UNION ALL SELECT id, 'train_seconds', train_seconds FROM trials WHERE params IS NOT NULL
    UNION ALL SELECT id, 'tokens_per_s', tokens_per_s FROM trials WHERE params IS NOT NULL;

ALTER TABLE trials DROP COLUMN val_loss;
ALTER TABLE trials DROP COLUMN val_ppl;
ALTER TABLE trials DROP COLUMN params;
ALTER TABLE trials DROP COLUMN flops_per_token;
ALTER TABLE trials DROP COLUMN kv_cache_bytes;
ALTER TABLE trials DROP COLUMN ssm_state_bytes;
ALTER TABLE trials DROP COLUMN latency_ms;
ALTER TABLE trials DROP COLUMN train_seconds;
ALTER TABLE trials DROP COLUMN tokens_per_s;

CREATE TABLE curve_values (
    trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
    step     INTEGER NOT NULL,
    name     TEXT    NOT NULL,
    value    REAL
);

CREATE INDEX curve_values_trial ON curve_values (trial_id, step);

INSERT INTO curve_values (trial_id, step, name, value)
    SELECT trial_id, step, 'train_loss', train_loss FROM curves
    UNION ALL SELECT trial_id, step, 'val_loss', val_loss FROM curves
    UNION ALL SELECT trial_id, step, 'elapsed_s', elapsed_s FROM curves;

DROP TABLE curves;
