//! Lead matching strategies: exactly one is active; activating one deactivates the other in the
//! same transaction; the active one cannot be deleted; a strategy field names a field mapping.

use std::collections::HashMap;

use chrono::Utc;
use entity::{
    field_mapping, matching_strategy as strategy, matching_strategy_field as strategy_field,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, JoinType,
    ModelTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, RelationDef, Set,
    sea_query::Expr,
};

use crate::{
    error::{AppError, AppResult, conflict_on_unique},
    service::mappings,
};

pub async fn list(db: &DatabaseConnection) -> AppResult<Vec<strategy::Model>> {
    Ok(strategy::Entity::find()
        .order_by_asc(strategy::Column::Id)
        .all(db)
        .await?)
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> AppResult<strategy::Model> {
    strategy::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("matching strategy", id))
}

pub async fn active(db: &impl ConnectionTrait) -> AppResult<strategy::Model> {
    strategy::Entity::find()
        .filter(strategy::Column::IsActive.eq(true))
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("no active matching strategy"))
}

/// A strategy's name, trimmed: 1 to 200 characters (unique: the database refuses a second).
fn valid_name(name: &str) -> AppResult<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::bad_input("name must be 1 to 200 characters"));
    }
    Ok(name)
}

fn name_taken(name: &str) -> String {
    format!("a matching strategy named {name:?} already exists")
}

pub async fn create(
    db: &impl crate::service::Db,
    name: &str,
    always_create_lead: bool,
) -> AppResult<strategy::Model> {
    let name = valid_name(name)?;
    let now = Utc::now();
    strategy::ActiveModel {
        name: Set(name.to_owned()),
        is_active: Set(false),
        always_create_lead: Set(always_create_lead),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| conflict_on_unique(e, name_taken(name)))
}

/// What `update` changes; `None` leaves a value as it is.
#[derive(Debug, Default)]
pub struct StrategyChanges {
    pub name: Option<String>,
    pub always_create_lead: Option<bool>,
}

/// Renames strategy `id` (same rules as at creation) or changes `always_create_lead`. The
/// active strategy keeps matching something: it turns `always_create_lead` off only if it has
/// a field.
pub async fn update(
    db: &impl crate::service::Db,
    id: i64,
    changes: &StrategyChanges,
) -> AppResult<strategy::Model> {
    let name = changes.name.as_deref().map(valid_name).transpose()?;
    let txn = db.begin().await?;
    let current = get(&txn, id).await?;
    if changes.always_create_lead == Some(false) && current.is_active && current.always_create_lead
    {
        let field_count = strategy_field::Entity::find()
            .filter(strategy_field::Column::StrategyId.eq(id))
            .count(&txn)
            .await?;
        if field_count == 0 {
            return Err(AppError::conflict(
                "the active strategy has no fields: without alwaysCreateLead it would match nothing; add a field first",
            ));
        }
    }
    let mut model: strategy::ActiveModel = current.into();
    if let Some(name) = name {
        model.name = Set(name.to_owned());
    }
    if let Some(always) = changes.always_create_lead {
        model.always_create_lead = Set(always);
    }
    model.updated_at = Set(Utc::now());
    let updated = model.update(&txn).await.map_err(|e| match name {
        Some(name) => conflict_on_unique(e, name_taken(name)),
        None => e.into(),
    })?;
    txn.commit().await?;
    tracing::info!(strategy_id = id, "updated matching strategy");
    Ok(updated)
}

/// The field mappings of each strategy, in the order they were added.
pub async fn fields_by_strategy(
    db: &impl ConnectionTrait,
    strategy_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<field_mapping::Model>>> {
    let rows: Vec<(strategy_field::Model, Option<field_mapping::Model>)> =
        strategy_field::Entity::find()
            .filter(strategy_field::Column::StrategyId.is_in(strategy_ids.iter().copied()))
            .join(JoinType::LeftJoin, mapping_relation())
            .select_also(field_mapping::Entity)
            .order_by_asc(strategy_field::Column::Id)
            .all(db)
            .await?;
    let mut out: HashMap<i64, Vec<field_mapping::Model>> = HashMap::new();
    for (link, mapping) in rows {
        if let Some(mapping) = mapping {
            out.entry(link.strategy_id).or_default().push(mapping);
        }
    }
    Ok(out)
}

fn mapping_relation() -> RelationDef {
    strategy_field::Entity::belongs_to(field_mapping::Entity)
        .from(strategy_field::Column::FieldMappingId)
        .to(field_mapping::Column::Id)
        .into()
}

pub async fn add_field(
    db: &impl crate::service::Db,
    strategy_id: i64,
    linkedin_field: &str,
) -> AppResult<strategy::Model> {
    let strategy = get(db, strategy_id).await?;
    let mapping = mappings::find_by_linkedin_field(db, linkedin_field)
        .await
        .map_err(|e| match e {
            AppError::NotFound(_) => AppError::bad_input(format!(
                "{linkedin_field:?} has no field mapping; a strategy field must name an existing field mapping"
            )),
            other => other,
        })?;
    if mapping
        .lead_field
        .starts_with(crate::service::leads::CUSTOM_PREFIX)
    {
        return Err(AppError::bad_input(format!(
            "{linkedin_field:?} maps to the custom field {}; strategies match on lead fields only",
            mapping.lead_field
        )));
    }
    strategy_field::ActiveModel {
        strategy_id: Set(strategy.id),
        field_mapping_id: Set(mapping.id),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| {
        conflict_on_unique(
            e,
            format!(
                "{:?} is already a field of this strategy",
                mapping.linkedin_field
            ),
        )
    })?;
    touch(db, strategy).await
}

pub async fn remove_field(
    db: &impl crate::service::Db,
    strategy_id: i64,
    linkedin_field: &str,
) -> AppResult<strategy::Model> {
    let strategy = get(db, strategy_id).await?;
    let fields = fields_by_strategy(db, &[strategy.id]).await?;
    let fields = fields
        .get(&strategy.id)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let Some(mapping) = fields
        .iter()
        .find(|m| m.linkedin_field == linkedin_field.trim())
    else {
        return Err(AppError::NotFound(format!(
            "{linkedin_field:?} is not a field of matching strategy {strategy_id}"
        )));
    };
    if strategy.is_active && !strategy.always_create_lead && fields.len() == 1 {
        return Err(AppError::conflict(
            "the active strategy needs at least one field; activate another strategy first",
        ));
    }
    strategy_field::Entity::delete_many()
        .filter(strategy_field::Column::StrategyId.eq(strategy.id))
        .filter(strategy_field::Column::FieldMappingId.eq(mapping.id))
        .exec(db)
        .await?;
    touch(db, strategy).await
}

async fn touch(db: &impl ConnectionTrait, s: strategy::Model) -> AppResult<strategy::Model> {
    let mut model: strategy::ActiveModel = s.into();
    model.updated_at = Set(Utc::now());
    Ok(model.update(db).await?)
}

/// Makes `id` the one active strategy, deactivating the other in the same transaction.
pub async fn activate(db: &impl crate::service::Db, id: i64) -> AppResult<strategy::Model> {
    let txn = db.begin().await?;
    let target = get(&txn, id).await?;
    if target.is_active {
        txn.commit().await?;
        return Ok(target);
    }
    if !target.always_create_lead {
        let field_count = strategy_field::Entity::find()
            .filter(strategy_field::Column::StrategyId.eq(id))
            .count(&txn)
            .await?;
        if field_count == 0 {
            return Err(AppError::conflict(
                "a strategy without fields matches nothing; add a field (or set alwaysCreateLead) first",
            ));
        }
    }
    let now = Utc::now();
    strategy::Entity::update_many()
        .col_expr(strategy::Column::IsActive, Expr::value(false))
        .col_expr(strategy::Column::UpdatedAt, Expr::value(now))
        .filter(strategy::Column::IsActive.eq(true))
        .exec(&txn)
        .await?;
    let mut model: strategy::ActiveModel = target.into();
    model.is_active = Set(true);
    model.updated_at = Set(now);
    let activated = model.update(&txn).await?;
    txn.commit().await?;
    tracing::info!(strategy_id = id, "activated matching strategy");
    Ok(activated)
}

pub async fn delete(db: &impl crate::service::Db, id: i64) -> AppResult<strategy::Model> {
    let target = get(db, id).await?;
    if target.is_active {
        return Err(AppError::conflict(
            "the active matching strategy cannot be deleted; activate another one first",
        ));
    }
    target.clone().delete(db).await?;
    Ok(target)
}
