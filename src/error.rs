//! One error type with stable codes. Internal failures are logged here and reach clients only as
//! `INTERNAL` with a generic message.

use async_graphql::ErrorExtensions;
use sea_orm::{DbErr, SqlErr};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppError {
    Unauthenticated(String),
    Forbidden(String),
    NotFound(String),
    BadUserInput(String),
    Conflict(String),
    /// Already logged; the text is never sent to clients.
    Internal,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated(_) => "UNAUTHENTICATED",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::BadUserInput(_) => "BAD_USER_INPUT",
            AppError::Conflict(_) => "CONFLICT",
            AppError::Internal => "INTERNAL",
        }
    }

    pub fn message(&self) -> &str {
        match self {
            AppError::Unauthenticated(m)
            | AppError::Forbidden(m)
            | AppError::NotFound(m)
            | AppError::BadUserInput(m)
            | AppError::Conflict(m) => m,
            AppError::Internal => "internal error",
        }
    }

    pub fn not_found(what: &str, id: impl std::fmt::Display) -> Self {
        AppError::NotFound(format!("{what} {id} not found"))
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        AppError::BadUserInput(message.into())
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        AppError::Conflict(message.into())
    }

    /// Logs the cause and returns the masked error.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        AppError::Internal
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        AppError::internal(format_args!("database: {err}"))
    }
}

/// Maps a unique-key violation to `CONFLICT` with the given message; any other error is internal.
pub fn conflict_on_unique(err: DbErr, message: impl Into<String>) -> AppError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => AppError::Conflict(message.into()),
        _ => err.into(),
    }
}

/// Maps a foreign-key violation to `CONFLICT` with the given message; any other error is internal.
pub fn conflict_on_reference(err: DbErr, message: impl Into<String>) -> AppError {
    match err.sql_err() {
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => AppError::Conflict(message.into()),
        _ => err.into(),
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        async_graphql::Error::new(err.message()).extend_with(|_, ext| ext.set("code", err.code()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_are_masked() {
        let err: async_graphql::Error =
            AppError::from(DbErr::Custom("SELECT secret FROM t".into())).into();
        assert_eq!(err.message, "internal error");
        let ext = err.extensions.expect("extensions");
        assert_eq!(
            ext.get("code"),
            Some(&async_graphql::Value::from("INTERNAL"))
        );
    }
}
