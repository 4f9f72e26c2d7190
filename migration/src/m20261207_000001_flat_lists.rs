//! Lists whose cost stays flat as data grows (issue 12, section 3).
//!
//! - Keyset indexes: every `LeadOrder` field with `id` after it, so a page and a page after a
//!   cursor are one index range read in either direction (`(col, id) > (v, i)`); the nullable
//!   fields (email, latest submission) read their non-null and null parts from the same index.
//!   They replace the single-column indexes on those fields (the email index still serves
//!   matching's lookups by its first column).
//! - `list_counts`: the size of the lists whose `totalCount` is exact without counting (all
//!   leads, leads per source, all submissions, submissions per campaign), kept in step by
//!   triggers in the writing statement's own transaction. PostgreSQL spreads each count over 16
//!   slots (by backend) so that concurrent writers rarely wait on one row; a reader sums the
//!   slots.
//! - Search: PostgreSQL gets a trigram index (pg_trgm, when the server has it) over the text
//!   `search` matches; SQLite an FTS5 table with the trigram tokenizer over the same text. A
//!   search reads the index instead of every lead.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The keyset indexes: (name, table, columns), and the single-column index each replaces.
const KEYSET_INDEXES: [(&str, &str, &str, &str); 5] = [
    (
        "idx_leads_created_at_id",
        "leads",
        "created_at, id",
        "idx_leads_created_at",
    ),
    (
        "idx_leads_updated_at_id",
        "leads",
        "updated_at, id",
        "idx_leads_updated_at",
    ),
    (
        "idx_leads_latest_submission_at_id",
        "leads",
        "latest_submission_at, id",
        "idx_leads_latest_submission_at",
    ),
    (
        "idx_leads_email_normalized_id",
        "leads",
        "email_normalized, id",
        "idx_leads_email_normalized",
    ),
    (
        "idx_form_submissions_submitted_at_id",
        "form_submissions",
        "submitted_at, id",
        "idx_form_submissions_submitted_at",
    ),
];

/// The text a lead's `search` matches, one expression on both databases (and the trigram
/// index's): the four fields joined by a space. A search term has no whitespace, so it is a
/// substring of this text exactly when it is a substring of one of the fields.
pub const SEARCH_TEXT: &str = "lower(coalesce(first_name, '') || ' ' || coalesce(last_name, '') \
     || ' ' || coalesce(email_normalized, '') || ' ' || coalesce(company, ''))";

/// `SEARCH_TEXT` of the row a SQLite trigger names (`NEW`).
fn search_text_of_new() -> String {
    SEARCH_TEXT
        .replace("first_name", "NEW.first_name")
        .replace("last_name", "NEW.last_name")
        .replace("email_normalized", "NEW.email_normalized")
        .replace("company", "NEW.company")
}

/// SQLite: `leads_search`, an FTS5 table with the trigram tokenizer holding each lead's
/// `SEARCH_TEXT` (rowid = lead id), kept in step by triggers; a search term of three characters
/// or more is a `LIKE` that FTS5 answers from its trigram index.
fn sqlite_search_up() -> String {
    let new = search_text_of_new();
    format!(
        r#"
CREATE VIRTUAL TABLE leads_search USING fts5(text, tokenize = 'trigram');
INSERT INTO leads_search (rowid, text) SELECT id, {SEARCH_TEXT} FROM leads;
CREATE TRIGGER leads_search_insert AFTER INSERT ON leads BEGIN
    INSERT INTO leads_search (rowid, text) VALUES (NEW.id, {new});
END;
CREATE TRIGGER leads_search_delete AFTER DELETE ON leads BEGIN
    DELETE FROM leads_search WHERE rowid = OLD.id;
END;
CREATE TRIGGER leads_search_update
    AFTER UPDATE OF first_name, last_name, email_normalized, company ON leads BEGIN
    UPDATE leads_search SET text = {new} WHERE rowid = NEW.id;
END;
"#
    )
}

const SQLITE_UP: &str = r#"
CREATE TABLE list_counts (
    list TEXT NOT NULL,
    slot INTEGER NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (list, slot)
);
INSERT INTO list_counts (list, slot, n) SELECT 'leads', 0, COUNT(*) FROM leads;
INSERT INTO list_counts (list, slot, n)
    SELECT 'leads:source:' || source, 0, COUNT(*) FROM leads GROUP BY source;
INSERT INTO list_counts (list, slot, n) SELECT 'submissions', 0, COUNT(*) FROM form_submissions;
INSERT INTO list_counts (list, slot, n)
    SELECT 'submissions:campaign:' || campaign_id, 0, COUNT(*) FROM form_submissions
    WHERE campaign_id IS NOT NULL GROUP BY campaign_id;

CREATE TRIGGER list_counts_lead_insert AFTER INSERT ON leads BEGIN
    INSERT INTO list_counts (list, slot, n) VALUES ('leads', 0, 1)
        ON CONFLICT (list, slot) DO UPDATE SET n = n + 1;
    INSERT INTO list_counts (list, slot, n) VALUES ('leads:source:' || NEW.source, 0, 1)
        ON CONFLICT (list, slot) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER list_counts_lead_delete AFTER DELETE ON leads BEGIN
    UPDATE list_counts SET n = n - 1
        WHERE slot = 0 AND list IN ('leads', 'leads:source:' || OLD.source);
END;
CREATE TRIGGER list_counts_lead_source AFTER UPDATE OF source ON leads
    WHEN OLD.source IS NOT NEW.source BEGIN
    UPDATE list_counts SET n = n - 1 WHERE slot = 0 AND list = 'leads:source:' || OLD.source;
    INSERT INTO list_counts (list, slot, n) VALUES ('leads:source:' || NEW.source, 0, 1)
        ON CONFLICT (list, slot) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER list_counts_submission_insert AFTER INSERT ON form_submissions BEGIN
    INSERT INTO list_counts (list, slot, n) VALUES ('submissions', 0, 1)
        ON CONFLICT (list, slot) DO UPDATE SET n = n + 1;
    INSERT INTO list_counts (list, slot, n)
        SELECT 'submissions:campaign:' || NEW.campaign_id, 0, 1 WHERE NEW.campaign_id IS NOT NULL
        ON CONFLICT (list, slot) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER list_counts_submission_delete AFTER DELETE ON form_submissions BEGIN
    UPDATE list_counts SET n = n - 1
        WHERE slot = 0 AND list IN ('submissions', 'submissions:campaign:' || OLD.campaign_id);
END;
CREATE TRIGGER list_counts_submission_campaign AFTER UPDATE OF campaign_id ON form_submissions
    WHEN OLD.campaign_id IS NOT NEW.campaign_id BEGIN
    UPDATE list_counts SET n = n - 1
        WHERE slot = 0 AND list = 'submissions:campaign:' || OLD.campaign_id;
    INSERT INTO list_counts (list, slot, n)
        SELECT 'submissions:campaign:' || NEW.campaign_id, 0, 1 WHERE NEW.campaign_id IS NOT NULL
        ON CONFLICT (list, slot) DO UPDATE SET n = n + 1;
END;
"#;

const SQLITE_DOWN: &str = r#"
DROP TRIGGER IF EXISTS list_counts_lead_insert;
DROP TRIGGER IF EXISTS list_counts_lead_delete;
DROP TRIGGER IF EXISTS list_counts_lead_source;
DROP TRIGGER IF EXISTS list_counts_submission_insert;
DROP TRIGGER IF EXISTS list_counts_submission_delete;
DROP TRIGGER IF EXISTS list_counts_submission_campaign;
DROP TABLE IF EXISTS list_counts;
DROP TRIGGER IF EXISTS leads_search_insert;
DROP TRIGGER IF EXISTS leads_search_delete;
DROP TRIGGER IF EXISTS leads_search_update;
DROP TABLE IF EXISTS leads_search;
"#;

/// Statement-level triggers over transition tables: one upsert per writing statement and list,
/// whatever its row count (the pipeline writes hundreds of rows a statement). The deltas of a
/// statement are applied in the lists' order, so two writers that share a slot lock its rows in
/// the same order.
const POSTGRES_UP: &str = r#"
CREATE TABLE list_counts (
    list TEXT NOT NULL,
    slot INTEGER NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (list, slot)
);
INSERT INTO list_counts (list, slot, n) SELECT 'leads', 0, COUNT(*) FROM leads;
INSERT INTO list_counts (list, slot, n)
    SELECT 'leads:source:' || source, 0, COUNT(*) FROM leads GROUP BY source;
INSERT INTO list_counts (list, slot, n) SELECT 'submissions', 0, COUNT(*) FROM form_submissions;
INSERT INTO list_counts (list, slot, n)
    SELECT 'submissions:campaign:' || campaign_id, 0, COUNT(*) FROM form_submissions
    WHERE campaign_id IS NOT NULL GROUP BY campaign_id;

CREATE FUNCTION list_counts_apply(deltas JSONB) RETURNS void LANGUAGE sql AS $$
    INSERT INTO list_counts (list, slot, n)
    SELECT d.key, pg_backend_pid() % 16, d.value::bigint
    FROM jsonb_each_text(deltas) AS d
    WHERE d.value::bigint <> 0
    ORDER BY d.key
    ON CONFLICT (list, slot) DO UPDATE SET n = list_counts.n + EXCLUDED.n
$$;

CREATE FUNCTION list_counts_leads() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE deltas JSONB;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT jsonb_object_agg(k, c) INTO deltas FROM (
            SELECT 'leads' AS k, COUNT(*) AS c FROM new_rows
            UNION ALL SELECT 'leads:source:' || source, COUNT(*) FROM new_rows GROUP BY source
        ) d;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT jsonb_object_agg(k, -c) INTO deltas FROM (
            SELECT 'leads' AS k, COUNT(*) AS c FROM old_rows
            UNION ALL SELECT 'leads:source:' || source, COUNT(*) FROM old_rows GROUP BY source
        ) d;
    ELSE
        SELECT jsonb_object_agg(k, c) INTO deltas FROM (
            SELECT k, SUM(c) AS c FROM (
                SELECT 'leads:source:' || source AS k, COUNT(*) AS c FROM new_rows GROUP BY source
                UNION ALL
                SELECT 'leads:source:' || source, -COUNT(*) FROM old_rows GROUP BY source
            ) u GROUP BY k
        ) d;
    END IF;
    IF deltas IS NOT NULL THEN
        PERFORM list_counts_apply(deltas);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION list_counts_submissions() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE deltas JSONB;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT jsonb_object_agg(k, c) INTO deltas FROM (
            SELECT 'submissions' AS k, COUNT(*) AS c FROM new_rows
            UNION ALL SELECT 'submissions:campaign:' || campaign_id, COUNT(*) FROM new_rows
                WHERE campaign_id IS NOT NULL GROUP BY campaign_id
        ) d;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT jsonb_object_agg(k, -c) INTO deltas FROM (
            SELECT 'submissions' AS k, COUNT(*) AS c FROM old_rows
            UNION ALL SELECT 'submissions:campaign:' || campaign_id, COUNT(*) FROM old_rows
                WHERE campaign_id IS NOT NULL GROUP BY campaign_id
        ) d;
    ELSE
        SELECT jsonb_object_agg(k, c) INTO deltas FROM (
            SELECT k, SUM(c) AS c FROM (
                SELECT 'submissions:campaign:' || campaign_id AS k, COUNT(*) AS c FROM new_rows
                    WHERE campaign_id IS NOT NULL GROUP BY campaign_id
                UNION ALL
                SELECT 'submissions:campaign:' || campaign_id, -COUNT(*) FROM old_rows
                    WHERE campaign_id IS NOT NULL GROUP BY campaign_id
            ) u GROUP BY k
        ) d;
    END IF;
    IF deltas IS NOT NULL THEN
        PERFORM list_counts_apply(deltas);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER list_counts_lead_insert AFTER INSERT ON leads
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION list_counts_leads();
CREATE TRIGGER list_counts_lead_delete AFTER DELETE ON leads
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION list_counts_leads();
CREATE TRIGGER list_counts_lead_update AFTER UPDATE ON leads
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION list_counts_leads();
CREATE TRIGGER list_counts_submission_insert AFTER INSERT ON form_submissions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION list_counts_submissions();
CREATE TRIGGER list_counts_submission_delete AFTER DELETE ON form_submissions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION list_counts_submissions();
CREATE TRIGGER list_counts_submission_update AFTER UPDATE ON form_submissions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION list_counts_submissions();
"#;

const POSTGRES_DOWN: &str = r#"
DROP TRIGGER IF EXISTS list_counts_lead_insert ON leads;
DROP TRIGGER IF EXISTS list_counts_lead_delete ON leads;
DROP TRIGGER IF EXISTS list_counts_lead_update ON leads;
DROP TRIGGER IF EXISTS list_counts_submission_insert ON form_submissions;
DROP TRIGGER IF EXISTS list_counts_submission_delete ON form_submissions;
DROP TRIGGER IF EXISTS list_counts_submission_update ON form_submissions;
DROP FUNCTION IF EXISTS list_counts_leads();
DROP FUNCTION IF EXISTS list_counts_submissions();
DROP FUNCTION IF EXISTS list_counts_apply(JSONB);
DROP TABLE IF EXISTS list_counts;
DROP INDEX IF EXISTS idx_leads_search_trgm;
"#;

async fn run(manager: &SchemaManager<'_>, sql: &str) -> Result<(), DbErr> {
    manager.get_connection().execute_unprepared(sql).await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, columns, replaced) in KEYSET_INDEXES {
            run(
                manager,
                &format!("CREATE INDEX {name} ON {table} ({columns})"),
            )
            .await?;
            run(manager, &format!("DROP INDEX {replaced}")).await?;
        }
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                run(manager, POSTGRES_UP).await?;
                // The trigram index where the server ships pg_trgm (contrib); without it a
                // search reads every lead, as before.
                let db = manager.get_connection();
                let available = db
                    .query_one_raw(Statement::from_string(
                        DatabaseBackend::Postgres,
                        "SELECT 1 AS ok FROM pg_available_extensions WHERE name = 'pg_trgm'",
                    ))
                    .await?
                    .is_some();
                if available {
                    run(manager, "CREATE EXTENSION IF NOT EXISTS pg_trgm").await?;
                    run(
                        manager,
                        &format!(
                            "CREATE INDEX idx_leads_search_trgm ON leads \
                             USING gin (({SEARCH_TEXT}) gin_trgm_ops)"
                        ),
                    )
                    .await?;
                }
            }
            _ => {
                run(manager, SQLITE_UP).await?;
                run(manager, &sqlite_search_up()).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => run(manager, POSTGRES_DOWN).await?,
            _ => run(manager, SQLITE_DOWN).await?,
        }
        for (name, table, _, replaced) in KEYSET_INDEXES {
            let column = replaced.trim_start_matches(&format!("idx_{table}_"));
            run(
                manager,
                &format!("CREATE INDEX {replaced} ON {table} ({column})"),
            )
            .await?;
            run(manager, &format!("DROP INDEX {name}")).await?;
        }
        Ok(())
    }
}
