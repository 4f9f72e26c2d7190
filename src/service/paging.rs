//! Keyset paging shared by the lists that grow (leads, submissions).

use base64::Engine;

use crate::error::{AppError, AppResult};

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
