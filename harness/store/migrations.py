"""The database schema as its migrations: the schema version is the number of them, checked on open.

A database written by an older harness is upgraded by running the migrations it lacks, in one transaction;
one written by a newer harness is refused (store/connection.py).
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: runs, arms, examples, predictions, scores, metrics
    """
    CREATE TABLE runs (
        run_id VARCHAR PRIMARY KEY,
        task VARCHAR NOT NULL,
        task_version VARCHAR NOT NULL,
        task_path VARCHAR,
        spec_json VARCHAR NOT NULL,
        spec_hash VARCHAR NOT NULL,
        data_fingerprint VARCHAR NOT NULL,
        profile VARCHAR,
        git_commit VARCHAR,
        git_dirty BOOLEAN,
        harness_version VARCHAR,
        packages_json VARCHAR,
        base_model_id VARCHAR,
        base_model_source VARCHAR,
        base_model_hash VARCHAR,
        device VARCHAR,
        host VARCHAR,
        pid INTEGER,
        status VARCHAR NOT NULL,
        error VARCHAR,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP,
        report_path VARCHAR,
        decision_json VARCHAR
    );
    CREATE TABLE arms (
        run_id VARCHAR NOT NULL,
        arm VARCHAR NOT NULL,
        arm_type VARCHAR NOT NULL,
        config_json VARCHAR NOT NULL,
        config_hash VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        error VARCHAR,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP,
        seconds DOUBLE,
        n_examples INTEGER,
        n_failed INTEGER,
        details_json VARCHAR,
        PRIMARY KEY (run_id, arm)
    );
    CREATE TABLE examples (
        run_id VARCHAR NOT NULL,
        split VARCHAR NOT NULL,
        example_id VARCHAR NOT NULL,
        source VARCHAR,
        input_json VARCHAR NOT NULL,
        target VARCHAR NOT NULL,
        PRIMARY KEY (run_id, split, example_id)
    );
    CREATE TABLE predictions (
        run_id VARCHAR NOT NULL,
        arm VARCHAR NOT NULL,
        split VARCHAR NOT NULL,
        example_id VARCHAR NOT NULL,
        prompt_json VARCHAR NOT NULL,
        output VARCHAR NOT NULL,
        error VARCHAR,
        latency_s DOUBLE,
        prompt_tokens INTEGER,
        output_tokens INTEGER,
        details_json VARCHAR,
        PRIMARY KEY (run_id, arm, split, example_id)
    );
    CREATE TABLE scores (
        run_id VARCHAR NOT NULL,
        arm VARCHAR NOT NULL,
        split VARCHAR NOT NULL,
        example_id VARCHAR NOT NULL,
        metric VARCHAR NOT NULL,
        value DOUBLE NOT NULL,
        PRIMARY KEY (run_id, arm, split, example_id, metric)
    );
    CREATE TABLE metrics (
        run_id VARCHAR NOT NULL,
        arm VARCHAR NOT NULL,
        split VARCHAR NOT NULL,
        metric VARCHAR NOT NULL,
        value DOUBLE,
        ci_low DOUBLE,
        ci_high DOUBLE,
        n INTEGER NOT NULL,
        n_failed INTEGER NOT NULL,
        PRIMARY KEY (run_id, arm, split, metric)
    );
    """,
    # 2: data-check findings and statistics per run
    """
    CREATE TABLE findings (
        run_id VARCHAR NOT NULL,
        check_name VARCHAR NOT NULL,
        severity VARCHAR NOT NULL,
        message VARCHAR NOT NULL,
        location VARCHAR,
        example_id VARCHAR,
        related VARCHAR
    );
    ALTER TABLE runs ADD COLUMN data_stats_json VARCHAR;
    """,
    # 3: sweep trials of tuned arms
    """
    CREATE TABLE trials (
        run_id VARCHAR NOT NULL,
        arm VARCHAR NOT NULL,
        study VARCHAR,
        trial_number INTEGER NOT NULL,
        state VARCHAR NOT NULL,
        params_json VARCHAR,
        value DOUBLE,
        intermediate_json VARCHAR,
        validation_values_json VARCHAR,
        error VARCHAR,
        train_seconds DOUBLE,
        tokens_per_s DOUBLE,
        train_tokens BIGINT,
        peak_memory_mb DOUBLE,
        trainable_params BIGINT,
        total_params BIGINT,
        adapter_path VARCHAR,
        adapter_hash VARCHAR,
        final_loss DOUBLE,
        reused BOOLEAN NOT NULL,
        started_at TIMESTAMP,
        finished_at TIMESTAMP,
        PRIMARY KEY (run_id, arm, trial_number)
    );
    """,
    # 4: retrieval indexes (one chunks_<key> table per index, embeddings as fixed-size FLOAT arrays)
    """
    CREATE TABLE indexes (
        index_key VARCHAR PRIMARY KEY,
        corpus_path VARCHAR,
        corpus_fingerprint VARCHAR NOT NULL,
        embedding_model VARCHAR NOT NULL,
        embedding_hash VARCHAR NOT NULL,
        chunk_tokens INTEGER NOT NULL,
        overlap_tokens INTEGER NOT NULL,
        dimension INTEGER NOT NULL,
        n_documents INTEGER NOT NULL,
        n_chunks INTEGER NOT NULL,
        created_at TIMESTAMP NOT NULL
    );
    """,
    # 5: an arm's role in the verdict, said by the arm itself (older rows: from the types of that time)
    """
    ALTER TABLE arms ADD COLUMN role VARCHAR;
    UPDATE arms SET role = CASE WHEN arm_type IN ('lora', 'qlora', 'rag-tuned') THEN 'tuned'
                                WHEN arm_type = 'merged' THEN 'companion' ELSE 'baseline' END;
    """,
    # 6: the general-capability suite: results per model, content-addressed (weights, adapter, items), so a
    # model scored once is never scored again; which result each arm of a run uses; forgetting per trial
    """
    CREATE TABLE suite_results (
        suite_key VARCHAR PRIMARY KEY,
        model VARCHAR NOT NULL,
        base_hash VARCHAR NOT NULL,
        adapter_hash VARCHAR,
        merged BOOLEAN NOT NULL,
        suite_version INTEGER NOT NULL,
        fingerprint VARCHAR NOT NULL,
        seconds DOUBLE,
        created_at TIMESTAMP NOT NULL
    );
    CREATE TABLE suite_rows (
        suite_key VARCHAR NOT NULL,
        part VARCHAR NOT NULL,
        category VARCHAR NOT NULL,
        item_id VARCHAR NOT NULL,
        metric VARCHAR NOT NULL,
        value DOUBLE NOT NULL,
        PRIMARY KEY (suite_key, part, item_id, metric)
    );
    CREATE TABLE suite_documents (
        suite_key VARCHAR NOT NULL,
        doc_id VARCHAR NOT NULL,
        loss DOUBLE NOT NULL,
        n_tokens INTEGER NOT NULL,
        PRIMARY KEY (suite_key, doc_id)
    );
    CREATE TABLE run_suites (
        run_id VARCHAR NOT NULL,
        arm VARCHAR NOT NULL,
        suite_key VARCHAR NOT NULL,
        reused BOOLEAN NOT NULL,
        PRIMARY KEY (run_id, arm)
    );
    ALTER TABLE trials ADD COLUMN forgetting DOUBLE;
    """,
    # 7: an arm's results keyed by everything that determines them, so a later run can reuse them
    """
    ALTER TABLE arms ADD COLUMN cache_key VARCHAR;
    ALTER TABLE arms ADD COLUMN cached_from VARCHAR;
    """,
    # 8: how long each stage of a run took, in the order they ran (one row per stage, written as it ends), and the
    # precision the run computed in (chosen per machine: harness.models.precision)
    """
    ALTER TABLE runs ADD COLUMN precision VARCHAR;
    CREATE TABLE stages (
        run_id VARCHAR NOT NULL,
        position INTEGER NOT NULL,
        stage VARCHAR NOT NULL,
        arm VARCHAR,
        seconds DOUBLE NOT NULL,
        started_at TIMESTAMP NOT NULL,
        failed BOOLEAN NOT NULL,
        PRIMARY KEY (run_id, position)
    );
    """,
    # 9: which process runs a run, beyond its pid (boot id and start time: harness.processes.process_identity), so
    # a pid the system gave to another process does not keep a killed run looking alive
    """
    ALTER TABLE runs ADD COLUMN process VARCHAR;
    """,
    # 10: each tuned arm's learning curve as fitted (its points are arms with role 'curve')
    """
    CREATE TABLE curves (
        run_id VARCHAR NOT NULL,
        arm VARCHAR NOT NULL,
        analysis_json VARCHAR NOT NULL,
        PRIMARY KEY (run_id, arm)
    );
    """,
]


# compared against; candidates; extra views of a candidate; a tuned arm's learning-curve points (read apart)
ROLES = ("baseline", "tuned", "companion", "curve")


SCHEMA_VERSION = len(MIGRATIONS)
