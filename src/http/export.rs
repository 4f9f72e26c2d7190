//! `GET /export/{leads,submissions}.{csv,ndjson}`: the streamed exports of `service::export`,
//! behind the same bearer tokens, viewer cache and rate limit as `/graphql`.

use axum::{
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use futures::StreamExt;

use crate::{
    AppState,
    error::AppError,
    graphql::guard::LEAD_USERS,
    service::{
        audit::Actor,
        export::{self, Dataset, Format},
    },
};

/// An error as JSON, in the shape of a GraphQL error (`message`, `extensions.code`).
fn refusal(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code } }]
    });
    let mut response = (
        status,
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

fn app_error(error: &AppError) -> Response {
    let status = match error {
        AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::BadUserInput(_) => StatusCode::BAD_REQUEST,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    };
    refusal(status, error.code(), error.message())
}

pub async fn leads_csv(state: State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    serve(state, headers, uri, Dataset::Leads, Format::Csv).await
}

pub async fn leads_ndjson(state: State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    serve(state, headers, uri, Dataset::Leads, Format::Ndjson).await
}

pub async fn submissions_csv(state: State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    serve(state, headers, uri, Dataset::Submissions, Format::Csv).await
}

pub async fn submissions_ndjson(state: State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    serve(state, headers, uri, Dataset::Submissions, Format::Ndjson).await
}

async fn serve(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    dataset: Dataset,
    format: Format,
) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let Some(viewer) = super::viewer_for(&state, authorization).await else {
        return refusal(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "send an API token: Authorization: Bearer <token>",
        );
    };
    if !viewer.has_any(LEAD_USERS) {
        return refusal(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "your roles do not allow this operation",
        );
    }
    if !state.limiter.allow(viewer.user_id) {
        crate::metrics::count("leadsync_rate_limited_total", &[], 1);
        let mut response = refusal(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            "too many requests for this API token; slow down",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        return response;
    }
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let request = match export::parse(dataset, format, &params) {
        Ok(request) => request,
        Err(e) => return app_error(&e),
    };
    let started = match export::start(&state.db, request, Actor::User(viewer.user_id)).await {
        Ok(started) => started,
        Err(e) => return app_error(&e),
    };
    // An error item aborts the body: the chunked response is cut without its last chunk, which
    // clients report as an incomplete transfer (the error itself is logged by the service).
    let body = Body::from_stream(started.body.map(|chunk| {
        chunk
            .map(Bytes::from)
            .map_err(|e| std::io::Error::other(e.code()))
    }));
    let disposition = format!("attachment; filename=\"{}\"", started.filename);
    let mut response = (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, started.content_type),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}
