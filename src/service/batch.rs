//! Batched reads by key, one statement per batch: what the GraphQL DataLoaders call.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, Iterable, ModelTrait, PrimaryKeyToColumn,
    QueryFilter, QueryOrder, sea_query::Value,
};

use crate::error::{AppError, AppResult};

fn key_of(value: Value) -> Option<i64> {
    match value {
        Value::BigInt(v) => v,
        Value::Int(v) => v.map(i64::from),
        _ => None,
    }
}

/// Rows of `E` by primary key.
pub async fn by_ids<E>(db: &impl ConnectionTrait, ids: &[i64]) -> AppResult<HashMap<i64, E::Model>>
where
    E: EntityTrait,
{
    let pk = E::PrimaryKey::iter()
        .next()
        .ok_or_else(|| AppError::internal("entity without primary key"))?
        .into_column();
    let rows = E::find()
        .filter(pk.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|m| key_of(m.get(pk)).map(|k| (k, m)))
        .collect())
}

/// Rows of `E` whose `column` is one of `keys`, grouped by that column, each group in `order`.
pub async fn grouped_by<E>(
    db: &impl ConnectionTrait,
    column: E::Column,
    keys: &[i64],
    order: E::Column,
    descending: bool,
) -> AppResult<HashMap<i64, Vec<E::Model>>>
where
    E: EntityTrait,
{
    let query = E::find().filter(column.is_in(keys.iter().copied()));
    let query = if descending {
        query.order_by_desc(order)
    } else {
        query.order_by_asc(order)
    };
    let mut out: HashMap<i64, Vec<E::Model>> = HashMap::new();
    for row in query.all(db).await? {
        if let Some(key) = key_of(row.get(column)) {
            out.entry(key).or_default().push(row);
        }
    }
    Ok(out)
}
