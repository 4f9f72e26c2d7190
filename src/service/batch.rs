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

/// `keys` sorted, without repeats, and padded (with the last key again) to the next power of
/// two: an `IN (...)` list of any other length is another SQL text, and every connection keeps
/// a prepared statement per text (up to 100): lists of every length from 1 to 1,000 kept
/// growing the server's memory by megabytes per large export. Padded, a query has about ten
/// shapes.
pub fn padded(keys: impl IntoIterator<Item = i64>) -> Vec<i64> {
    let mut keys: Vec<i64> = keys.into_iter().collect();
    keys.sort_unstable();
    keys.dedup();
    if let Some(&last) = keys.last() {
        keys.resize(keys.len().next_power_of_two(), last);
    }
    keys
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
        .filter(pk.is_in(padded(ids.iter().copied())))
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
    let query = E::find().filter(column.is_in(padded(keys.iter().copied())));
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

#[cfg(test)]
mod tests {
    use super::padded;

    #[test]
    fn keys_are_deduplicated_and_padded_to_a_power_of_two() {
        assert_eq!(padded([]), Vec::<i64>::new());
        assert_eq!(padded([7]), vec![7]);
        assert_eq!(padded([3, 1, 3, 2]), vec![1, 2, 3, 3]);
        let many = padded(1..=600);
        assert_eq!(many.len(), 1024);
        assert_eq!(&many[598..601], &[599, 600, 600]);
    }
}
