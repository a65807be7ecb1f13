CREATE INDEX ix_artifacts_blob_id ON artifacts (blob_id);

CREATE INDEX ix_artifacts_kind_name ON artifacts (kind, name);

CREATE INDEX ix_audit_log_subject_seq ON audit_log (subject, seq);

CREATE INDEX ix_metrics_key_latest_value_run_id ON metrics ("key", latest, value, run_id);

CREATE INDEX ix_params_key_num_value_run_id ON params ("key", num, value, run_id);

CREATE INDEX ix_replays_requested_at_id ON replays (requested_at, id);

CREATE INDEX ix_replays_run_id_requested_at_id ON replays (run_id, requested_at, id);

CREATE INDEX ix_replays_status ON replays (status);

CREATE INDEX ix_runs_duration_s_id ON runs (duration_s, id);

CREATE INDEX ix_runs_name_id ON runs (name, id);

CREATE INDEX ix_runs_notebook_status_name_id ON runs (notebook, status, name, id);

CREATE INDEX ix_runs_started_at_id ON runs (started_at, id);

CREATE INDEX ix_runs_status ON runs (status);

CREATE INDEX ix_tags_key_value_run_id ON tags ("key", value, run_id);

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

CREATE TABLE artifacts (
    run_id VARCHAR(64) NOT NULL,
    position INTEGER NOT NULL,
    blob_id VARCHAR(64) NOT NULL,
    name TEXT NOT NULL,
    kind VARCHAR(16) NOT NULL,
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    CONSTRAINT pk_artifacts PRIMARY KEY (run_id, position),
    CONSTRAINT fk_artifacts_run_id_runs FOREIGN KEY(run_id) REFERENCES runs (id) ON DELETE CASCADE,
    CONSTRAINT fk_artifacts_blob_id_blobs FOREIGN KEY(blob_id) REFERENCES blobs (id)
);

CREATE TABLE audit_log (
    seq INTEGER NOT NULL,
    at VARCHAR(27) NOT NULL,
    kind VARCHAR(32) NOT NULL,
    subject VARCHAR(64) NOT NULL,
    digest VARCHAR(64) NOT NULL,
    prev_hash VARCHAR(64) NOT NULL,
    hash VARCHAR(64) NOT NULL,
    parts TEXT,
    CONSTRAINT pk_audit_log PRIMARY KEY (seq)
);

CREATE TABLE blobs (
    id VARCHAR(64) NOT NULL,
    size BIGINT NOT NULL,
    created_at VARCHAR(27) NOT NULL,
    CONSTRAINT pk_blobs PRIMARY KEY (id)
);

CREATE TABLE environments (
    id VARCHAR(64) NOT NULL,
    python TEXT NOT NULL,
    platform TEXT NOT NULL,
    document TEXT NOT NULL,
    created_at VARCHAR(27) NOT NULL,
    CONSTRAINT pk_environments PRIMARY KEY (id)
);

CREATE TABLE inputs (
    run_id VARCHAR(64) NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    kind VARCHAR(16) NOT NULL,
    fingerprint TEXT NOT NULL,
    shape TEXT,
    schema TEXT,
    profile TEXT,
    path TEXT,
    size BIGINT,
    CONSTRAINT pk_inputs PRIMARY KEY (run_id, position),
    CONSTRAINT fk_inputs_run_id_runs FOREIGN KEY(run_id) REFERENCES runs (id) ON DELETE CASCADE
);

CREATE TABLE metrics (
    run_id VARCHAR(64) NOT NULL,
    "key" VARCHAR(250) NOT NULL,
    step BIGINT NOT NULL,
    value FLOAT,
    timestamp FLOAT NOT NULL, latest BOOLEAN DEFAULT 0 NOT NULL,
    CONSTRAINT pk_metrics PRIMARY KEY (run_id, "key", step),
    CONSTRAINT fk_metrics_run_id_runs FOREIGN KEY(run_id) REFERENCES runs (id) ON DELETE CASCADE
);

CREATE TABLE params (
    run_id VARCHAR(64) NOT NULL,
    "key" VARCHAR(250) NOT NULL,
    value TEXT NOT NULL, num FLOAT,
    CONSTRAINT pk_params PRIMARY KEY (run_id, "key"),
    CONSTRAINT fk_params_run_id_runs FOREIGN KEY(run_id) REFERENCES runs (id) ON DELETE CASCADE
);

CREATE TABLE replays (
    id VARCHAR(64) NOT NULL,
    run_id VARCHAR(64) NOT NULL,
    status VARCHAR(16) NOT NULL,
    mode VARCHAR(16) NOT NULL,
    overrides TEXT NOT NULL,
    rtol FLOAT NOT NULL,
    atol FLOAT NOT NULL,
    requested_at VARCHAR(27) NOT NULL,
    started_at VARCHAR(27),
    ended_at VARCHAR(27),
    heartbeat_at VARCHAR(27),
    replay_run_id VARCHAR(64),
    verdict VARCHAR(32),
    differences TEXT NOT NULL,
    failure TEXT,
    notebook_artifact VARCHAR(64),
    report_artifact VARCHAR(64),
    message TEXT,
    user TEXT,
    host TEXT,
    pid INTEGER,
    proc_start BIGINT,
    CONSTRAINT pk_replays PRIMARY KEY (id),
    CONSTRAINT fk_replays_run_id_runs FOREIGN KEY(run_id) REFERENCES runs (id) ON DELETE CASCADE,
    CONSTRAINT ck_replays_status CHECK (status IN ('queued', 'running', 'done')),
    CONSTRAINT ck_replays_mode CHECK (mode IN ('history', 'notebook')),
    CONSTRAINT ck_replays_verdict CHECK (verdict IS NULL OR verdict IN ('reproduced', 'reproduced_within_tolerance', 'differs', 'failed')),
    CONSTRAINT ck_replays_done_has_verdict CHECK (status <> 'done' OR verdict IS NOT NULL)
);

CREATE TABLE runs (
    id VARCHAR(64) NOT NULL,
    name TEXT,
    status VARCHAR(16) NOT NULL,
    user TEXT,
    host TEXT,
    pid INTEGER,
    proc_start BIGINT,
    kernel_id TEXT,
    notebook TEXT,
    cell_id TEXT,
    execution_count INTEGER,
    started_at VARCHAR(27) NOT NULL,
    ended_at VARCHAR(27),
    heartbeat_at VARCHAR(27),
    duration_s FLOAT,
    code TEXT NOT NULL,
    history TEXT NOT NULL,
    dependencies TEXT NOT NULL,
    seeds TEXT NOT NULL,
    environment_id VARCHAR(64),
    error TEXT,
    stdout TEXT NOT NULL,
    stderr TEXT NOT NULL,
    warnings TEXT NOT NULL,
    replay_of VARCHAR(64),
    CONSTRAINT pk_runs PRIMARY KEY (id),
    CONSTRAINT ck_runs_status CHECK (status IN ('running', 'finished', 'failed', 'interrupted')),
    CONSTRAINT fk_runs_environment_id_environments FOREIGN KEY(environment_id) REFERENCES environments (id)
);

CREATE TABLE sources (
    hash VARCHAR(64) NOT NULL,
    text TEXT NOT NULL,
    CONSTRAINT pk_sources PRIMARY KEY (hash)
);

CREATE TABLE tags (
    run_id VARCHAR(64) NOT NULL,
    "key" VARCHAR(250) NOT NULL,
    value TEXT NOT NULL,
    CONSTRAINT pk_tags PRIMARY KEY (run_id, "key"),
    CONSTRAINT fk_tags_run_id_runs FOREIGN KEY(run_id) REFERENCES runs (id) ON DELETE CASCADE
);

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
