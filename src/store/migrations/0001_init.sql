-- Schema of the trial store. u64 values (seeds, parameter counts, byte counts)
-- are stored as INTEGER (i64) by bit reinterpretation; times are unix seconds.

CREATE TABLE studies (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    space_text   TEXT    NOT NULL,
    space_hash   TEXT    NOT NULL,
    objectives   TEXT    NOT NULL,          -- JSON array of objective names
    strategy     TEXT    NOT NULL,
    seed         INTEGER NOT NULL,
    budget       INTEGER NOT NULL,
    code_version TEXT    NOT NULL,
    created      REAL    NOT NULL
);

CREATE TABLE trials (
    id              INTEGER PRIMARY KEY,
    study_id        INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
    number          INTEGER NOT NULL,
    state           TEXT    NOT NULL
                    CHECK (state IN ('running', 'complete', 'pruned', 'failed')),
    arch_json       TEXT    NOT NULL,
    arch_hash       TEXT    NOT NULL,
    arch_short      TEXT    NOT NULL,
    seed            INTEGER NOT NULL,
    worker          TEXT    NOT NULL,
    -- Metrics: all NULL unless the trial completed. SQLite stores a NaN REAL as
    -- NULL, so `params` (never NaN) tells whether metrics are present.
    val_loss        REAL,
    val_ppl         REAL,
    params          INTEGER,
    flops_per_token REAL,
    kv_cache_bytes  INTEGER,
    ssm_state_bytes INTEGER,
    latency_ms      REAL,
    train_seconds   REAL,
    tokens_per_s    REAL,
    error           TEXT,
    extra           TEXT,                   -- JSON, strategy information
    started         REAL    NOT NULL,
    finished        REAL,
    heartbeat       REAL    NOT NULL,
    UNIQUE (study_id, number)
);

CREATE INDEX trials_study_state ON trials (study_id, state);
CREATE INDEX trials_study_hash ON trials (study_id, arch_hash);

CREATE TABLE curves (
    trial_id   INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
    step       INTEGER NOT NULL,
    train_loss REAL,
    val_loss   REAL,
    elapsed_s  REAL    NOT NULL
);

CREATE INDEX curves_trial ON curves (trial_id, step);

CREATE TABLE strategy_state (
    study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
    key      TEXT    NOT NULL,
    value    BLOB    NOT NULL,
    PRIMARY KEY (study_id, key)
);
