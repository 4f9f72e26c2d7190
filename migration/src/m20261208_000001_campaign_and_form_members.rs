//! The leads of a campaign and of a form as tables (issue 12, section 3).
//!
//! A lead belongs to a campaign when it came from it (`leads.source_campaign_id`) or has a
//! submission to it (`form_submissions.campaign_id`); the same for forms. Filtering `leads` by
//! campaign was that OR, which no index answers, and its total a bounded count that read up to
//! 1,001 matches. Now `lead_campaigns` and `lead_forms` hold one row per (lead, campaign or form)
//! with the number of reasons it belongs (its source plus each submission), kept in step by
//! triggers in the writing statement's transaction, so:
//! - a page walks leads in its order and probes the row by its primary key (lead first);
//! - `totalCount` of a campaign's or a form's leads is exact and read from `list_counts`
//!   (`leads:campaign:<id>`, `leads:form:<id>`), which triggers on these tables keep.
//!
//! No foreign keys: the triggers remove a lead's rows when it is deleted.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// One membership table: its name, its id column, the lead's source column, the submission's
/// column, and the list name (`leads:<list>:<id>`) of its counter.
struct Members {
    table: &'static str,
    column: &'static str,
    source: &'static str,
    submitted: &'static str,
    list: &'static str,
}

const MEMBERS: [Members; 2] = [
    Members {
        table: "lead_campaigns",
        column: "campaign_id",
        source: "source_campaign_id",
        submitted: "campaign_id",
        list: "campaign",
    },
    Members {
        table: "lead_forms",
        column: "form_id",
        source: "source_form_id",
        submitted: "form_id",
        list: "form",
    },
];

impl Members {
    fn fill(&self) -> String {
        let Members {
            table: t,
            column: c,
            source: src,
            submitted: sub,
            list: k,
        } = self;
        format!(
            r#"
INSERT INTO {t} (lead_id, {c}, reasons)
    SELECT lead_id, ref, COUNT(*) FROM (
        SELECT id AS lead_id, {src} AS ref FROM leads WHERE {src} IS NOT NULL
        UNION ALL
        SELECT lead_id, {sub} FROM form_submissions
            WHERE lead_id IS NOT NULL AND {sub} IS NOT NULL
    ) reasons GROUP BY lead_id, ref;
INSERT INTO list_counts (list, slot, n)
    SELECT 'leads:{k}:' || {c}, 0, COUNT(*) FROM {t} GROUP BY {c};
"#
        )
    }

    /// SQLite: row triggers. A decrement that finds no row (the lead was deleted first) does
    /// nothing.
    fn sqlite_up(&self) -> String {
        let Members {
            table: t,
            column: c,
            source: src,
            submitted: sub,
            list: k,
        } = self;
        let add = |lead: &str, r: &str| {
            format!(
                "INSERT INTO {t} (lead_id, {c}, reasons) SELECT {lead}, {r}, 1 \
                 WHERE {lead} IS NOT NULL AND {r} IS NOT NULL \
                 ON CONFLICT (lead_id, {c}) DO UPDATE SET reasons = reasons + 1;"
            )
        };
        let remove = |lead: &str, r: &str| {
            format!(
                "UPDATE {t} SET reasons = reasons - 1 WHERE lead_id = {lead} AND {c} = {r};
    DELETE FROM {t} WHERE lead_id = {lead} AND {c} = {r} AND reasons <= 0;"
            )
        };
        let fill = self.fill();
        let (add_lead, remove_lead) = (
            add("NEW.id", &format!("NEW.{src}")),
            remove("OLD.id", &format!("OLD.{src}")),
        );
        let (add_sub, remove_sub) = (
            add("NEW.lead_id", &format!("NEW.{sub}")),
            remove("OLD.lead_id", &format!("OLD.{sub}")),
        );
        format!(
            r#"
CREATE TABLE {t} (
    lead_id BIGINT NOT NULL,
    {c} BIGINT NOT NULL,
    reasons BIGINT NOT NULL,
    PRIMARY KEY (lead_id, {c})
) WITHOUT ROWID;
{fill}
CREATE TRIGGER {t}_counted_insert AFTER INSERT ON {t} BEGIN
    INSERT INTO list_counts (list, slot, n) VALUES ('leads:{k}:' || NEW.{c}, 0, 1)
        ON CONFLICT (list, slot) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER {t}_counted_delete AFTER DELETE ON {t} BEGIN
    UPDATE list_counts SET n = n - 1 WHERE slot = 0 AND list = 'leads:{k}:' || OLD.{c};
END;
CREATE TRIGGER {t}_lead_insert AFTER INSERT ON leads BEGIN
    {add_lead}
END;
CREATE TRIGGER {t}_lead_update AFTER UPDATE OF {src} ON leads
    WHEN OLD.{src} IS NOT NEW.{src} BEGIN
    {remove_lead}
    {add_lead}
END;
CREATE TRIGGER {t}_lead_delete AFTER DELETE ON leads BEGIN
    DELETE FROM {t} WHERE lead_id = OLD.id;
END;
CREATE TRIGGER {t}_submission_insert AFTER INSERT ON form_submissions BEGIN
    {add_sub}
END;
CREATE TRIGGER {t}_submission_update AFTER UPDATE OF lead_id, {sub} ON form_submissions
    WHEN OLD.lead_id IS NOT NEW.lead_id OR OLD.{sub} IS NOT NEW.{sub} BEGIN
    {remove_sub}
    {add_sub}
END;
CREATE TRIGGER {t}_submission_delete AFTER DELETE ON form_submissions BEGIN
    {remove_sub}
END;
"#
        )
    }

    fn sqlite_down(&self) -> String {
        let t = self.table;
        let k = self.list;
        format!(
            r#"
DROP TRIGGER IF EXISTS {t}_counted_insert;
DROP TRIGGER IF EXISTS {t}_counted_delete;
DROP TRIGGER IF EXISTS {t}_lead_insert;
DROP TRIGGER IF EXISTS {t}_lead_update;
DROP TRIGGER IF EXISTS {t}_lead_delete;
DROP TRIGGER IF EXISTS {t}_submission_insert;
DROP TRIGGER IF EXISTS {t}_submission_update;
DROP TRIGGER IF EXISTS {t}_submission_delete;
DROP TABLE IF EXISTS {t};
DELETE FROM list_counts WHERE list LIKE 'leads:{k}:%';
"#
        )
    }

    /// PostgreSQL: statement triggers over transition tables, as `list_counts`' own (the
    /// pipeline writes hundreds of rows a statement). Rows are added and removed in key order so
    /// that concurrent writers lock shared rows in the same order.
    fn postgres_up(&self) -> String {
        let Members {
            table: t,
            column: c,
            source: src,
            submitted: sub,
            list: k,
        } = self;
        // `deltas`: (lead_id, ref, n) rows to add (n > 0) or remove (n < 0).
        let apply = |deltas: &str| {
            format!(
                r#"
    INSERT INTO {t} (lead_id, {c}, reasons)
        SELECT lead_id, ref, n FROM ({deltas}) d WHERE n > 0 ORDER BY lead_id, ref
        ON CONFLICT (lead_id, {c}) DO UPDATE SET reasons = {t}.reasons + EXCLUDED.reasons;
    UPDATE {t} m SET reasons = m.reasons + d.n
        FROM ({deltas}) d WHERE d.n < 0 AND m.lead_id = d.lead_id AND m.{c} = d.ref;
    DELETE FROM {t} m USING ({deltas}) d
        WHERE d.n < 0 AND m.lead_id = d.lead_id AND m.{c} = d.ref AND m.reasons <= 0;"#
            )
        };
        let changed = |column: &str, lead: &str| {
            format!(
                "SELECT lead_id, ref, SUM(n) AS n FROM (\
                 SELECT {lead} AS lead_id, {column} AS ref, COUNT(*) AS n FROM new_rows \
                 WHERE {lead} IS NOT NULL AND {column} IS NOT NULL GROUP BY 1, 2 \
                 UNION ALL \
                 SELECT {lead}, {column}, -COUNT(*) FROM old_rows \
                 WHERE {lead} IS NOT NULL AND {column} IS NOT NULL GROUP BY 1, 2\
                 ) u GROUP BY lead_id, ref HAVING SUM(n) <> 0"
            )
        };
        let added = |column: &str, lead: &str| {
            format!(
                "SELECT {lead} AS lead_id, {column} AS ref, COUNT(*) AS n FROM new_rows \
                 WHERE {lead} IS NOT NULL AND {column} IS NOT NULL GROUP BY 1, 2"
            )
        };
        let removed = |column: &str, lead: &str| {
            format!(
                "SELECT {lead} AS lead_id, {column} AS ref, -COUNT(*) AS n FROM old_rows \
                 WHERE {lead} IS NOT NULL AND {column} IS NOT NULL GROUP BY 1, 2"
            )
        };
        let fill = self.fill();
        let lead_insert = apply(&added(src, "id"));
        let lead_update = apply(&changed(src, "id"));
        let sub_insert = apply(&added(sub, "lead_id"));
        let sub_update = apply(&changed(sub, "lead_id"));
        let sub_delete = apply(&removed(sub, "lead_id"));
        format!(
            r#"
CREATE TABLE {t} (
    lead_id BIGINT NOT NULL,
    {c} BIGINT NOT NULL,
    reasons BIGINT NOT NULL,
    PRIMARY KEY (lead_id, {c})
);
{fill}
CREATE FUNCTION {t}_counted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE deltas JSONB;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT jsonb_object_agg('leads:{k}:' || {c}, n) INTO deltas
            FROM (SELECT {c}, COUNT(*) AS n FROM new_rows GROUP BY {c}) d;
    ELSE
        SELECT jsonb_object_agg('leads:{k}:' || {c}, -n) INTO deltas
            FROM (SELECT {c}, COUNT(*) AS n FROM old_rows GROUP BY {c}) d;
    END IF;
    IF deltas IS NOT NULL THEN
        PERFORM list_counts_apply(deltas);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER {t}_counted_insert AFTER INSERT ON {t}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {t}_counted();
CREATE TRIGGER {t}_counted_delete AFTER DELETE ON {t}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {t}_counted();

CREATE FUNCTION {t}_of_leads() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN{lead_insert}
    ELSIF TG_OP = 'UPDATE' THEN
        -- Most updates of a lead leave its source alone.
        IF EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
                   WHERE o.{src} IS DISTINCT FROM n.{src}) THEN{lead_update}
        END IF;
    ELSE
        DELETE FROM {t} m USING old_rows o WHERE m.lead_id = o.id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER {t}_lead_insert AFTER INSERT ON leads
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {t}_of_leads();
CREATE TRIGGER {t}_lead_update AFTER UPDATE ON leads
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {t}_of_leads();
CREATE TRIGGER {t}_lead_delete AFTER DELETE ON leads
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {t}_of_leads();

CREATE FUNCTION {t}_of_submissions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN{sub_insert}
    ELSIF TG_OP = 'UPDATE' THEN
        IF EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
                   WHERE o.lead_id IS DISTINCT FROM n.lead_id
                      OR o.{sub} IS DISTINCT FROM n.{sub}) THEN{sub_update}
        END IF;
    ELSE{sub_delete}
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER {t}_submission_insert AFTER INSERT ON form_submissions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {t}_of_submissions();
CREATE TRIGGER {t}_submission_update AFTER UPDATE ON form_submissions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {t}_of_submissions();
CREATE TRIGGER {t}_submission_delete AFTER DELETE ON form_submissions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {t}_of_submissions();
"#
        )
    }

    fn postgres_down(&self) -> String {
        let t = self.table;
        let k = self.list;
        format!(
            r#"
DROP TRIGGER IF EXISTS {t}_lead_insert ON leads;
DROP TRIGGER IF EXISTS {t}_lead_update ON leads;
DROP TRIGGER IF EXISTS {t}_lead_delete ON leads;
DROP TRIGGER IF EXISTS {t}_submission_insert ON form_submissions;
DROP TRIGGER IF EXISTS {t}_submission_update ON form_submissions;
DROP TRIGGER IF EXISTS {t}_submission_delete ON form_submissions;
DROP FUNCTION IF EXISTS {t}_of_leads();
DROP FUNCTION IF EXISTS {t}_of_submissions();
DROP TABLE IF EXISTS {t};
DROP FUNCTION IF EXISTS {t}_counted();
DELETE FROM list_counts WHERE list LIKE 'leads:{k}:%';
"#
        )
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for members in &MEMBERS {
            let sql = match manager.get_database_backend() {
                DatabaseBackend::Postgres => members.postgres_up(),
                _ => members.sqlite_up(),
            };
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for members in &MEMBERS {
            let sql = match manager.get_database_backend() {
                DatabaseBackend::Postgres => members.postgres_down(),
                _ => members.sqlite_down(),
            };
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
