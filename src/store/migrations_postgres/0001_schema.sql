-- Schema of the trial store on PostgreSQL: the schema SQLite's migrations
-- 0001-0003 arrive at, in one step (no PostgreSQL store predates it). The
-- store suite checks that both describe the same tables, columns and
-- nullability. u64 values are BIGINT by bit reinterpretation, as in SQLite;
-- times are unix seconds; DOUBLE PRECISION keeps NaN as NaN.

CREATE TABLE studies (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT             NOT NULL UNIQUE,
    space_text   TEXT             NOT NULL,
    space_hash   TEXT             NOT NULL,
    objectives   TEXT             NOT NULL,   -- JSON array of objective names
    strategy     TEXT             NOT NULL,
    seed         BIGINT           NOT NULL,
    budget       BIGINT           NOT NULL,
    code_version TEXT             NOT NULL,
    created      DOUBLE PRECISION NOT NULL,
    evaluator    TEXT
                 CHECK (evaluator IS NULL OR evaluator IN ('train', 'analytic')),
    pruner       TEXT                          -- JSON settings, NULL: no pruning
);

CREATE TABLE trials (
    id         BIGSERIAL PRIMARY KEY,
    study_id   BIGINT           NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
    number     BIGINT           NOT NULL,
    state      TEXT             NOT NULL
               CHECK (state IN ('running', 'complete', 'pruned', 'failed')),
    arch_json  TEXT             NOT NULL,
    arch_hash  TEXT             NOT NULL,
    arch_short TEXT             NOT NULL,
    seed       BIGINT           NOT NULL,
    worker     TEXT             NOT NULL,
    error      TEXT,
    extra      TEXT,                           -- JSON, strategy information
    started    DOUBLE PRECISION NOT NULL,
    finished   DOUBLE PRECISION,
    heartbeat  DOUBLE PRECISION NOT NULL,
    fail_kind  TEXT
               CHECK (fail_kind IS NULL OR fail_kind IN
                      ('diverged', 'error', 'interrupted', 'worker_died', 'heartbeat_lost')),
    UNIQUE (study_id, number)
);

CREATE INDEX trials_study_state ON trials (study_id, state);
CREATE INDEX trials_study_hash ON trials (study_id, arch_hash);

CREATE TABLE strategy_state (
    study_id BIGINT NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
    key      TEXT   NOT NULL,
    value    BYTEA  NOT NULL,
    PRIMARY KEY (study_id, key)
);

CREATE TABLE trial_values (
    trial_id BIGINT NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
    name     TEXT   NOT NULL,
    value    DOUBLE PRECISION,
    PRIMARY KEY (trial_id, name)
);

CREATE TABLE curve_values (
    trial_id BIGINT NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
    step     BIGINT NOT NULL,
    name     TEXT   NOT NULL,
    value    DOUBLE PRECISION
);

CREATE INDEX curve_values_trial ON curve_values (trial_id, step);

CREATE TABLE rung_reports (
    id       BIGSERIAL PRIMARY KEY,
    study_id BIGINT NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
    trial_id BIGINT NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
    bracket  BIGINT NOT NULL CHECK (bracket >= 0),
    step     BIGINT NOT NULL CHECK (step > 0),
    value    DOUBLE PRECISION,
    costs    TEXT   NOT NULL,                  -- JSON array, objective order
    promoted BIGINT NOT NULL CHECK (promoted IN (0, 1)),
    UNIQUE (trial_id, bracket, step)
);

CREATE INDEX rung_reports_by_rung ON rung_reports (study_id, bracket, step);
