//! Field mappings: which lead field a LinkedIn field (a `predefinedField`, or a custom question's
//! name as the form shows it) writes to.

use chrono::Utc;
use entity::{field_mapping, matching_strategy_field};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, ModelTrait, PaginatorTrait, QueryFilter, QueryOrder, Set, Statement,
};

use crate::{
    error::{AppError, AppResult, conflict_on_unique},
    service::leads::{LEAD_FIELDS, is_valid_lead_field},
};

pub async fn list_mappings(db: &DatabaseConnection) -> AppResult<Vec<field_mapping::Model>> {
    Ok(field_mapping::Entity::find()
        .order_by_asc(field_mapping::Column::Id)
        .all(db)
        .await?)
}

pub async fn create_mapping(
    db: &impl crate::service::Db,
    linkedin_field: &str,
    lead_field: &str,
) -> AppResult<field_mapping::Model> {
    let linkedin_field = linkedin_field.trim();
    let lead_field = lead_field.trim();
    if linkedin_field.is_empty() || linkedin_field.chars().count() > 200 {
        return Err(AppError::bad_input(
            "linkedInField must be 1 to 200 characters",
        ));
    }
    if !is_valid_lead_field(lead_field) {
        return Err(AppError::bad_input(format!(
            "leadField {lead_field:?} is not a lead field; use one of {} or custom.<key>",
            LEAD_FIELDS.join(", ")
        )));
    }
    let now = Utc::now();
    field_mapping::ActiveModel {
        linkedin_field: Set(linkedin_field.to_owned()),
        lead_field: Set(lead_field.to_owned()),
        is_default: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| {
        conflict_on_unique(
            e,
            format!("a field mapping for {linkedin_field:?} already exists"),
        )
    })
}

pub async fn find_by_linkedin_field(
    db: &impl ConnectionTrait,
    linkedin_field: &str,
) -> AppResult<field_mapping::Model> {
    field_mapping::Entity::find()
        .filter(field_mapping::Column::LinkedinField.eq(linkedin_field.trim()))
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "no field mapping for LinkedIn field {linkedin_field:?}"
            ))
        })
}

/// Deletes a mapping that no matching strategy uses.
pub async fn delete_mapping(
    db: &impl crate::service::Db,
    id: i64,
) -> AppResult<field_mapping::Model> {
    let mapping = field_mapping::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("field mapping", id))?;
    let users = matching_strategy_field::Entity::find()
        .filter(matching_strategy_field::Column::FieldMappingId.eq(id))
        .count(db)
        .await?;
    if users > 0 {
        return Err(AppError::conflict(format!(
            "field mapping {:?} is used by {users} matching strateg{}; remove it there first",
            mapping.linkedin_field,
            if users == 1 { "y" } else { "ies" }
        )));
    }
    mapping.clone().delete(db).await.map_err(|e| {
        crate::error::conflict_on_reference(e, "field mapping is used by a matching strategy")
    })?;
    Ok(mapping)
}

/// A question of the synced forms that no field mapping covers (as `LinkedInForm.unmappedQuestions`
/// decides, `matching::mapping_for`), over every form that asks it.
#[derive(Debug, Clone, PartialEq, Eq, sea_orm::FromQueryResult)]
pub struct UnmappedQuestion {
    /// What `create_mapping` takes as `linkedin_field` to cover it: the `predefinedField`, or
    /// for a custom question its name (its text when it has none).
    pub name: String,
    /// The question as one of its forms shows it.
    pub question_text: String,
    /// Forms that ask it.
    pub forms: i64,
    /// Stored answers to it, over all those forms.
    pub answers: i64,
}

/// Every unmapped question (consents aside), most answered first, counted by the database:
/// custom questions are one question across forms by their mapping key (name, else text,
/// trimmed and case-insensitive, as mappings compare), predefined ones by their field.
pub async fn unmapped_questions(db: &impl ConnectionTrait) -> AppResult<Vec<UnmappedQuestion>> {
    // Constant text: nothing of the request is in it.
    const SQL: &str = "\
        SELECT \
          MIN(CASE WHEN q.predefined_field IS NOT NULL THEN q.predefined_field \
                   ELSE COALESCE(NULLIF(TRIM(q.name), ''), TRIM(q.text)) END) AS name, \
          MIN(q.text) AS question_text, \
          CAST(COUNT(DISTINCT q.form_id) AS BIGINT) AS forms, \
          CAST(COUNT(a.id) AS BIGINT) AS answers \
        FROM linkedin_form_questions q \
        LEFT JOIN submission_answers a ON a.question_id = q.id \
        WHERE NOT q.is_consent \
          AND NOT EXISTS ( \
            SELECT 1 FROM field_mappings m WHERE \
              (q.predefined_field IS NOT NULL AND m.linkedin_field = q.predefined_field) \
              OR (q.predefined_field IS NULL \
                  AND (LOWER(TRIM(m.linkedin_field)) = LOWER(TRIM(q.name)) \
                       OR LOWER(TRIM(m.linkedin_field)) = LOWER(TRIM(q.text))))) \
        GROUP BY CASE WHEN q.predefined_field IS NOT NULL THEN 'p:' || q.predefined_field \
                      ELSE 'c:' || LOWER(COALESCE(NULLIF(TRIM(q.name), ''), TRIM(q.text))) END \
        ORDER BY answers DESC, forms DESC, name";
    let backend = db.get_database_backend();
    Ok(
        UnmappedQuestion::find_by_statement(Statement::from_string(backend, SQL))
            .all(db)
            .await?,
    )
}
