//! Keyset paging shared by the lists that grow (leads, submissions).

use base64::Engine;
use sea_orm::{
    ConnectionTrait, EntityTrait, FromQueryResult, QueryResult, QuerySelect, QueryTrait, Select,
    sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement, SubQueryStatement},
};

use crate::error::{AppError, AppResult};

/// The column a page query carries the list's total in.
const TOTAL_COLUMN: &str = "page_total_count";

/// How far `totalCount` counts a list that no counter keeps: up to this many rows exactly, and
/// `COUNT_LIMIT + 1` for "more than `COUNT_LIMIT`". Counting stops there, so the cost of a
/// filtered list's total does not grow with the table (an exact `COUNT(*)` reads every match).
pub const COUNT_LIMIT: u64 = 1_000;

/// The value of a list counter of `list_counts` (kept in step with writes by triggers; on
/// PostgreSQL spread over slots, summed here).
pub fn counted(list: &str) -> Expr {
    let sum = Query::select()
        .expr(Expr::cust("CAST(COALESCE(SUM(n), 0) AS BIGINT)"))
        .from(Alias::new("list_counts"))
        .and_where(Expr::col(Alias::new("list")).eq(list))
        .to_owned();
    Expr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(sum)))
}

/// The number of rows `query` selects, counted up to `limit + 1`: a scalar subquery.
pub fn bounded_count<E: EntityTrait>(query: Select<E>, limit: u64) -> Expr {
    let rows = query
        .select_only()
        .expr(Expr::val(1))
        .limit(limit + 1)
        .into_query();
    let count = Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from_subquery(rows, Alias::new("bounded"))
        .to_owned();
    Expr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(count)))
}

/// Adds `total` (`counted` or `bounded_count`) to every row of `page`, so that a page and its
/// `totalCount` are one statement.
pub fn add_total_column(page: &mut SelectStatement, total: Expr) {
    page.expr_as(total, Alias::new(TOTAL_COLUMN));
}

/// `total` on its own (an empty page past a cursor has no row to carry it).
pub async fn count_of(db: &impl ConnectionTrait, total: Expr) -> AppResult<i64> {
    let statement = Query::select()
        .expr_as(total, Alias::new(TOTAL_COLUMN))
        .to_owned();
    let row = db
        .query_one_raw(db.get_database_backend().build(&statement))
        .await?
        .ok_or_else(|| AppError::internal("a count returned no row"))?;
    Ok(row.try_get::<i64>("", TOTAL_COLUMN)?)
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

/// Runs `page` and reads its rows as `E`; with `counted`, also the total `add_total_column`
/// added (`None` when it must be counted separately, see `total_of`).
pub async fn fetch_rows<E: EntityTrait>(
    db: &impl ConnectionTrait,
    page: &SelectStatement,
    counted: bool,
    after: Option<&str>,
) -> AppResult<(Vec<E::Model>, Option<i64>)> {
    let rows = db
        .query_all_raw(db.get_database_backend().build(page))
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

/// A cursor of a list keyed on (a time, id): submissions, newest first.
pub fn decode_time_cursor(text: &str) -> AppResult<(chrono::DateTime<chrono::Utc>, i64)> {
    let (value, id) = decode_cursor(text)?;
    let at = value
        .as_deref()
        .and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok())
        .ok_or_else(|| AppError::bad_input("after is not a cursor of this list"))?;
    Ok((at.to_utc(), id))
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
