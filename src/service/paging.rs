//! Keyset paging shared by the lists that grow (leads, submissions).

use base64::Engine;
use sea_orm::{
    ConnectionTrait, EntityTrait, FromQueryResult, QueryResult, QuerySelect, QueryTrait, Select,
    sea_query::{Alias, Expr, SelectStatement, SubQueryStatement},
};

use crate::error::{AppError, AppResult};

/// The column a page query carries the list's total in.
const TOTAL_COLUMN: &str = "page_total_count";

/// Adds the size of the whole list (`count`: the filtered query without cursor or limit) to every
/// row of `page` as a scalar subquery, so a page and its `totalCount` are one statement.
pub fn add_total_column<E: EntityTrait>(page: &mut SelectStatement, count: Select<E>) {
    let count = count
        .select_only()
        .column_as(Expr::cust("COUNT(*)"), "n")
        .into_query();
    page.expr_as(
        Expr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(count))),
        Alias::new(TOTAL_COLUMN),
    );
}

/// The total `add_total_column` put on the first row; for no rows it is 0 on a first page (the page
/// query fetches one row past the page, so an empty first page means an empty list) and unknown
/// (`None`: count separately) past a cursor.
pub fn total_of(rows: &[QueryResult], after: Option<&str>) -> AppResult<Option<i64>> {
    match rows.first() {
        Some(row) => Ok(Some(row.try_get::<i64>("", TOTAL_COLUMN)?)),
        None if after.is_none() => Ok(Some(0)),
        None => Ok(None),
    }
}

/// Runs `page` and reads its rows as `E`; with `count`, also the list's total in the same
/// statement (`None` when it must be counted separately, see `total_of`).
pub async fn fetch_page<E: EntityTrait>(
    db: &impl ConnectionTrait,
    page: Select<E>,
    count: Option<Select<E>>,
    after: Option<&str>,
) -> AppResult<(Vec<E::Model>, Option<i64>)> {
    let mut statement = page.into_query();
    let counted = count.is_some();
    if let Some(count) = count {
        add_total_column(&mut statement, count);
    }
    let rows = db
        .query_all_raw(db.get_database_backend().build(&statement))
        .await?;
    let total = if counted {
        total_of(&rows, after)?
    } else {
        None
    };
    let models = rows
        .iter()
        .map(|row| E::Model::from_query_result(row, ""))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((models, total))
}

pub struct Page<T> {
    pub items: Vec<(String, T)>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
}

pub const MAX_PAGE_SIZE: u64 = 100;
pub const DEFAULT_PAGE_SIZE: u64 = 20;

pub fn page_size(first: Option<i32>) -> AppResult<u64> {
    match first {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(n) if n >= 0 && (n as u64) <= MAX_PAGE_SIZE => Ok(n as u64),
        Some(_) => Err(AppError::bad_input(format!(
            "first must be between 0 and {MAX_PAGE_SIZE}"
        ))),
    }
}

/// What a cursor holds: the sort value of the last row seen and its id.
#[derive(serde::Serialize, serde::Deserialize)]
struct Cursor {
    v: Option<String>,
    id: i64,
}

pub fn encode_cursor(value: Option<String>, id: i64) -> String {
    let json = serde_json::to_vec(&Cursor { v: value, id }).expect("cursor serializes");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

pub fn decode_cursor(text: &str) -> AppResult<(Option<String>, i64)> {
    let bad = || AppError::bad_input("after is not a cursor of this list");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| bad())?;
    let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    Ok((cursor.v, cursor.id))
}

/// Splits `first + 1` fetched rows into a page.
pub fn into_page<T>(
    rows: Vec<T>,
    first: u64,
    after: Option<&str>,
    cursor_of: impl Fn(&T) -> String,
) -> Page<T> {
    let has_next_page = rows.len() as u64 > first;
    let items = rows
        .into_iter()
        .take(first as usize)
        .map(|row| (cursor_of(&row), row))
        .collect();
    Page {
        items,
        has_next_page,
        has_previous_page: after.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = encode_cursor(Some("x@y.z".into()), 7);
        assert_eq!(decode_cursor(&c).unwrap(), (Some("x@y.z".into()), 7));
        assert!(decode_cursor("not-a-cursor").is_err());
    }

    #[test]
    fn page_size_is_bounded() {
        assert_eq!(page_size(None).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(Some(100)).unwrap(), 100);
        assert!(page_size(Some(101)).is_err());
        assert!(page_size(Some(-1)).is_err());
    }
}
