//! Field mappings: which lead field a LinkedIn field (a `predefinedField`, or a custom question's
//! name as the form shows it) writes to.

use chrono::Utc;
use entity::{field_mapping, matching_strategy_field};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, ModelTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
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
    db: &DatabaseConnection,
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
    db: &DatabaseConnection,
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
pub async fn delete_mapping(db: &DatabaseConnection, id: i64) -> AppResult<field_mapping::Model> {
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
