//! LinkedIn's calls into leadsync: the OAuth redirect back, and lead notifications (webhooks).

use axum::{
    Json,
    body::Bytes,
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{Html, IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use crate::{AppState, service::webhooks};

#[derive(Deserialize)]
pub struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The console's page of a profile, or the console itself when the profile is not known.
fn console_link(profile_id: Option<i64>) -> (String, &'static str) {
    match profile_id {
        Some(id) => (format!("/console/#/profiles/{id}"), "Back to the profile"),
        None => ("/console/".into(), "Back to the console"),
    }
}

/// The page LinkedIn's redirect lands on. It links to the profile's page in the console; once
/// connected it also takes the browser there at once (a meta refresh: the page itself stays a
/// 200 with its text, for clients that do not follow it).
fn page(ok: bool, message: &str, profile_id: Option<i64>) -> String {
    let title = if ok {
        "LinkedIn connected"
    } else {
        "LinkedIn not connected"
    };
    let (href, label) = console_link(profile_id);
    let href = escape(&href);
    let refresh = if ok && profile_id.is_some() {
        format!("<meta http-equiv=\"refresh\" content=\"0; url={href}\">")
    } else {
        String::new()
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">{refresh}\
         <link rel=\"icon\" href=\"/assets/favicon.svg\" type=\"image/svg+xml\"><title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;color:#1d2226}}\
         h1{{color:{color}}}</style></head><body><main><h1>{title}</h1><p>{}</p>\
         <p><a href=\"{href}\">{label}</a></p></main></body></html>",
        escape(message),
        color = if ok { "#0a66c2" } else { "#b24020" },
    )
}

pub async fn oauth_callback(
    State(state): State<AppState>,
    Query(params): Query<CallbackParams>,
) -> Response {
    let result = state
        .connector
        .complete_authorization(
            params.state.as_deref(),
            params.code.as_deref(),
            params.error.as_deref(),
            params.error_description.as_deref(),
        )
        .await;
    match result {
        Ok(outcome) if outcome.connected => {
            Html(page(true, &outcome.message, outcome.profile_id)).into_response()
        }
        Ok(outcome) => (
            StatusCode::BAD_REQUEST,
            Html(page(false, &outcome.message, outcome.profile_id)),
        )
            .into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Html(page(false, e.message(), None)),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
pub struct ChallengeParams {
    #[serde(rename = "challengeCode")]
    challenge_code: String,
}

/// LinkedIn validates the webhook URL: answer hex(HMAC-SHA256(client secret, challengeCode)).
pub async fn webhook_challenge(
    State(state): State<AppState>,
    Query(params): Query<ChallengeParams>,
) -> Response {
    let Some(secret) = state.connector.webhook_secret() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "LinkedIn is not configured",
        )
            .into_response();
    };
    // Kept so a profile can show when LinkedIn last validated us; the answer goes out even if
    // recording fails (LinkedIn waits 3 seconds, then counts a failure).
    if let Err(e) = webhooks::record_validation(&state.db).await {
        tracing::warn!(error = %e.message(), "could not record a webhook validation");
    }
    Json(json!({
        "challengeCode": params.challenge_code,
        "challengeResponse": crate::crypto::hmac_hex(secret, params.challenge_code.as_bytes()),
    }))
    .into_response()
}

/// Whether `X-LI-Signature` signs `body`: over `hmacsha256=` + body (LinkedIn's text) or the body
/// alone; the header may carry the `hmacsha256=` prefix. Compared in constant time.
pub fn signature_valid(secret: &str, body: &[u8], header: &str) -> bool {
    let given = header.trim();
    let given = given
        .strip_prefix("hmacsha256=")
        .unwrap_or(given)
        .to_ascii_lowercase();
    let mut prefixed = b"hmacsha256=".to_vec();
    prefixed.extend_from_slice(body);
    [
        crate::crypto::hmac_hex(secret, &prefixed),
        crate::crypto::hmac_hex(secret, body),
    ]
    .iter()
    .any(|expected| bool::from(expected.as_bytes().ct_eq(given.as_bytes())))
}

/// The largest notification accepted.
pub const MAX_WEBHOOK_BYTES: usize = 64 * 1024;

pub async fn webhook(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = state.connector.webhook_secret() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "LinkedIn is not configured",
        )
            .into_response();
    };
    if body.len() > MAX_WEBHOOK_BYTES {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    // Webhook calls share one budget (key 0; API users have positive ids).
    if !state.limiter.allow(0) {
        return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "60")]).into_response();
    }
    // Verify before parsing anything.
    let signature = headers
        .get("x-li-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !signature_valid(secret, &body, signature) {
        tracing::warn!("rejected a lead notification with a bad signature");
        return (StatusCode::UNAUTHORIZED, "invalid X-LI-Signature").into_response();
    }
    let Ok(notification) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "the notification is not JSON").into_response();
    };
    match webhooks::receive(&state.db, &state.connector, &notification, &body).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) if e.code() == "BAD_USER_INPUT" => {
            (StatusCode::BAD_REQUEST, e.message().to_owned()).into_response()
        }
        // LinkedIn retries; the scheduled sync catches up too.
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_signature_forms_verify_and_others_fail() {
        let body = br#"{"leadAction":"CREATED"}"#;
        let mut prefixed = b"hmacsha256=".to_vec();
        prefixed.extend_from_slice(body);
        assert!(signature_valid(
            "s",
            body,
            &crate::crypto::hmac_hex("s", &prefixed)
        ));
        assert!(signature_valid(
            "s",
            body,
            &crate::crypto::hmac_hex("s", body)
        ));
        assert!(signature_valid(
            "s",
            body,
            &format!("hmacsha256={}", crate::crypto::hmac_hex("s", body))
        ));
        assert!(!signature_valid(
            "s",
            body,
            &crate::crypto::hmac_hex("other", body)
        ));
        assert!(!signature_valid("s", body, ""));
    }
}
