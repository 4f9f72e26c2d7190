//! LinkedIn's three-legged OAuth 2.0: the authorization page (approving at once, refusing when
//! told to, or, in interactive mode, LinkedIn's sign-in and permissions pages) and the token
//! endpoint (authorization code with PKCE, refresh token), with LinkedIn's error bodies from
//! `oauth.json`.

use std::collections::HashMap;

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::Rng;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{SANDBOX_MEMBER_EMAIL, Sandbox, now_ms, pages};

/// The scopes Lead Sync needs; an authorization must ask for all of them.
const REQUIRED_SCOPES: [&str; 3] = [
    "r_ads",
    "r_organization_admin",
    "r_marketing_leadgen_automation",
];
/// Other scopes this app may ask for; anything else is "not authorized for your application".
const OTHER_SCOPES: [&str; 8] = [
    "rw_ads",
    "r_ads_reporting",
    "rw_organization_admin",
    "r_basicprofile",
    "r_liteprofile",
    "openid",
    "profile",
    "email",
];
/// LinkedIn's authorization codes live 30 minutes.
const CODE_TTL_MS: i64 = 30 * 60 * 1000;
/// How long a member may take over the sign-in and permissions pages.
const PENDING_TTL_MS: i64 = 30 * 60 * 1000;
/// A sign-in request (`request_id`) the sandbox does not hold, or no longer.
const UNKNOWN_REQUEST: &str = "This sign-in request is unknown, expired or already used. \
    Start the authorization again from the application.";

const CODE_NOT_FOUND: &str = "Unable to retrieve access token: authorization code not found";
const CODE_MISMATCH: &str = "Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code. Or authorization code expired. Or external member binding exists";
const BAD_REFRESH: &str =
    "The provided authorization grant or refresh token is invalid, expired or revoked";

#[derive(Default)]
pub(super) struct OAuthState {
    codes: HashMap<String, AuthCode>,
    grants: Vec<Grant>,
    tokens: HashMap<String, AccessToken>,
    /// Interactive mode: validated authorization requests waiting on the member, by the random
    /// id their pages carry in a hidden `request_id` field.
    pending: HashMap<String, Pending>,
}

/// A valid authorization request: what the code will be bound to, and where the member returns.
struct AuthRequest {
    redirect_uri: url::Url,
    /// As the request spelled it: the token request must repeat it exactly.
    redirect_raw: String,
    state: Option<String>,
    challenge: Option<String>,
    scopes: Vec<String>,
}

struct Pending {
    request: AuthRequest,
    /// The member signed in (the permissions page was shown).
    signed_in: bool,
    expires_at: i64,
}

struct AuthCode {
    client_id: String,
    redirect_uri: String,
    /// The PKCE S256 challenge, when the authorization request carried one.
    challenge: Option<String>,
    scopes: Vec<String>,
    expires_at: i64,
}

/// One member's consent: the refresh token and its fixed expiry (from the first grant).
struct Grant {
    member: String,
    refresh_token: String,
    refresh_expires_at: i64,
    revoked: bool,
}

struct AccessToken {
    /// Index into `OAuthState::grants`.
    grant: usize,
    expires_at: i64,
    expired: bool,
    revoked: bool,
}

/// What a bearer token is worth on `/rest`.
pub(super) enum TokenCheck {
    Valid { member: String },
    Unknown,
    Expired,
    Revoked,
}

impl OAuthState {
    pub fn check(&self, token: &str, now: i64) -> TokenCheck {
        match self.tokens.get(token) {
            None => TokenCheck::Unknown,
            Some(t) if t.revoked => TokenCheck::Revoked,
            Some(t) if t.expired || t.expires_at <= now => TokenCheck::Expired,
            Some(t) => TokenCheck::Valid {
                member: self.grants[t.grant].member.clone(),
            },
        }
    }

    pub fn expire_all(&mut self) {
        self.tokens.values_mut().for_each(|t| t.expired = true);
    }

    pub fn revoke_all(&mut self) {
        self.tokens.values_mut().for_each(|t| t.revoked = true);
        self.grants.iter_mut().for_each(|g| g.revoked = true);
    }

    fn issue_access_token(&mut self, grant: usize, ttl_secs: i64, now: i64) -> String {
        let token = random_token("AQ", 150);
        self.tokens.insert(
            token.clone(),
            AccessToken {
                grant,
                expires_at: now + ttl_secs * 1000,
                expired: false,
                revoked: false,
            },
        );
        token
    }
}

/// A random token in LinkedIn's alphabet (letters, digits, `-`, `_`).
fn random_token(prefix: &str, len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::rng();
    let mut token = prefix.to_owned();
    token.extend((0..len).map(|_| CHARS[rng.random_range(0..CHARS.len())] as char));
    token
}

/// `application/x-www-form-urlencoded` pairs; the first of a repeated name wins.
fn form_pairs(bytes: &[u8]) -> HashMap<String, String> {
    let mut pairs = HashMap::new();
    for (key, value) in url::form_urlencoded::parse(bytes) {
        pairs
            .entry(key.into_owned())
            .or_insert_with(|| value.into_owned());
    }
    pairs
}

use pages::error_page;

/// `302 {redirect_uri}?{params}&state=..` (any query the redirect URI already has is kept).
fn redirect(redirect_uri: &url::Url, params: &[(&str, &str)], state: Option<&str>) -> Response {
    let mut target = redirect_uri.clone();
    {
        let mut query = target.query_pairs_mut();
        for (key, value) in params {
            query.append_pair(key, value);
        }
        if let Some(state) = state {
            query.append_pair("state", state);
        }
    }
    (StatusCode::FOUND, [(header::LOCATION, target.to_string())]).into_response()
}

/// `GET /oauth/v2/authorization`: validates the client and redirect URI (error page), then the
/// request (error redirect), then approves (or refuses) on the member's behalf, or in interactive
/// mode shows the sign-in page.
pub(super) async fn authorize(State(sandbox): State<Sandbox>, uri: Uri) -> Response {
    sandbox.lock().stats.authorize_calls += 1;
    let request = match validate(&sandbox, uri.query().unwrap_or_default()) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    let now = now_ms();
    let mut guard = sandbox.lock();
    if guard.refuse_authorizations {
        drop(guard);
        return cancelled(&request);
    }
    if !guard.interactive_sign_in {
        return issue_code(&sandbox, &mut guard.oauth, request, now);
    }
    let id = random_token("", 32);
    let pending = &mut guard.oauth.pending;
    pending.retain(|_, p| p.expires_at > now);
    pending.insert(
        id.clone(),
        Pending {
            request,
            signed_in: false,
            expires_at: now + PENDING_TTL_MS,
        },
    );
    guard.stats.sign_in_pages += 1;
    drop(guard);
    let config = &sandbox.inner.config;
    let email = config
        .member_email
        .as_deref()
        .unwrap_or(SANDBOX_MEMBER_EMAIL);
    pages::sign_in(&id, &config.app_name, &config.member_name, email, None)
}

/// The authorization request's checks, in LinkedIn's order: client and redirect URI (an error
/// page), then response type, scopes and PKCE (an error redirect).
fn validate(sandbox: &Sandbox, query: &str) -> Result<AuthRequest, Box<Response>> {
    let config = &sandbox.inner.config;
    let page = |message: &str| Err(Box::new(error_page(message)));
    let params = form_pairs(query.as_bytes());
    let param = |name: &str| {
        params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };

    match param("client_id") {
        None => return page("The client_id parameter is missing."),
        Some(id) if id != config.client_id => {
            return page("The client_id is not valid for any application.");
        }
        Some(_) => {}
    }
    let Some(redirect_raw) = param("redirect_uri") else {
        return page("The redirect_uri parameter is missing.");
    };
    if config
        .redirect_uri
        .as_deref()
        .is_some_and(|registered| registered != redirect_raw)
    {
        return page(
            "The redirect_uri does not match the registered value. \
             It must match a URL registered with the application exactly.",
        );
    }
    let redirect_uri = match url::Url::parse(redirect_raw) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.fragment().is_none() => u,
        _ => {
            return page("The redirect_uri is not an absolute http(s) URL.");
        }
    };
    let state = param("state");
    let fail = |error: &str, description: &str| {
        Err(Box::new(redirect(
            &redirect_uri,
            &[("error", error), ("error_description", description)],
            state,
        )))
    };

    if param("response_type") != Some("code") {
        return fail(
            "unsupported_response_type",
            "response_type must be \"code\"",
        );
    }
    // Space-delimited (`+` or %20 in the URL, both decode to a space).
    let scopes: Vec<String> = param("scope")
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(unknown) = scopes
        .iter()
        .find(|s| !REQUIRED_SCOPES.contains(&s.as_str()) && !OTHER_SCOPES.contains(&s.as_str()))
    {
        return fail(
            "unauthorized_scope_error",
            &format!("Scope \"{unknown}\" is not authorized for your application"),
        );
    }
    if let Some(missing) = REQUIRED_SCOPES
        .iter()
        .find(|required| !scopes.iter().any(|s| s == *required))
    {
        return fail(
            "invalid_scope",
            &format!("The scope \"{missing}\" is required for Lead Sync"),
        );
    }
    let challenge = match (param("code_challenge"), param("code_challenge_method")) {
        (None, None) => None,
        (Some(challenge), Some("S256")) if is_s256_challenge(challenge) => {
            Some(challenge.to_owned())
        }
        (Some(_), Some("S256")) => {
            return fail(
                "invalid_request",
                "code_challenge must be 43 base64url characters",
            );
        }
        _ => {
            return fail(
                "invalid_request",
                "PKCE needs code_challenge with code_challenge_method=S256",
            );
        }
    };
    Ok(AuthRequest {
        redirect_raw: redirect_raw.to_owned(),
        state: state.map(str::to_owned),
        redirect_uri,
        challenge,
        scopes,
    })
}

/// The member approved: a code bound to the request, and `302 {redirect_uri}?code=..&state=..`.
fn issue_code(
    sandbox: &Sandbox,
    oauth: &mut OAuthState,
    request: AuthRequest,
    now: i64,
) -> Response {
    let code = random_token("AQT", 120);
    oauth.codes.retain(|_, c| c.expires_at > now);
    oauth.codes.insert(
        code.clone(),
        AuthCode {
            client_id: sandbox.inner.config.client_id.clone(),
            redirect_uri: request.redirect_raw,
            challenge: request.challenge,
            scopes: request.scopes,
            expires_at: now + CODE_TTL_MS,
        },
    );
    redirect(
        &request.redirect_uri,
        &[("code", &code)],
        request.state.as_deref(),
    )
}

/// The member said no: `302 {redirect_uri}?error=user_cancelled_authorize&..&state=..`.
fn cancelled(request: &AuthRequest) -> Response {
    redirect(
        &request.redirect_uri,
        &[
            ("error", "user_cancelled_authorize"),
            ("error_description", "The user cancelled the authorization"),
        ],
        request.state.as_deref(),
    )
}

/// `POST /oauth/v2/login-submit` (`request_id`, `session_key`, `session_password`): any
/// non-empty password signs the member in and shows the permissions page; an empty one shows the
/// sign-in page again with the error on the password field.
pub(super) async fn login_submit(State(sandbox): State<Sandbox>, body: Bytes) -> Response {
    let config = &sandbox.inner.config;
    let form = form_pairs(&body);
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    let id = field("request_id");
    let now = now_ms();
    let mut guard = sandbox.lock();
    let state = &mut *guard;
    let Some(pending) = state
        .oauth
        .pending
        .get_mut(id)
        .filter(|p| p.expires_at > now)
    else {
        return error_page(UNKNOWN_REQUEST);
    };
    if field("session_password").is_empty() {
        state.stats.sign_in_pages += 1;
        drop(guard);
        return pages::sign_in(
            id,
            &config.app_name,
            &config.member_name,
            field("session_key"),
            Some(pages::EMPTY_PASSWORD),
        );
    }
    pending.signed_in = true;
    let scopes = pending.request.scopes.clone();
    state.stats.permission_pages += 1;
    drop(guard);
    pages::permissions(id, &config.app_name, &config.member_name, &scopes)
}

/// `POST /oauth/v2/authorization-decision` (`request_id`, `action` = `allow` | `cancel`): Allow
/// issues the code and redirects as a non-interactive authorization does; Cancel redirects with
/// `user_cancelled_authorize`. Either way the request is used up.
pub(super) async fn authorization_decision(
    State(sandbox): State<Sandbox>,
    body: Bytes,
) -> Response {
    let form = form_pairs(&body);
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    let allow = match field("action") {
        "allow" => true,
        "cancel" => false,
        _ => return error_page("Choose Allow or Cancel."),
    };
    let now = now_ms();
    let mut guard = sandbox.lock();
    let pending = &mut guard.oauth.pending;
    let Some(entry) = pending.get(field("request_id")) else {
        return error_page(UNKNOWN_REQUEST);
    };
    if !entry.signed_in {
        return error_page("Sign in before allowing or cancelling this request.");
    }
    let Some(entry) = pending
        .remove(field("request_id"))
        .filter(|p| p.expires_at > now)
    else {
        return error_page(UNKNOWN_REQUEST);
    };
    if allow {
        issue_code(&sandbox, &mut guard.oauth, entry.request, now)
    } else {
        drop(guard);
        cancelled(&entry.request)
    }
}

/// BASE64URL-NOPAD of a SHA-256 digest: exactly 43 characters of the URL-safe alphabet.
fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn token_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

fn missing(name: &str) -> Response {
    token_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        &format!("A required parameter \"{name}\" is missing"),
    )
}

/// `POST /oauth/v2/accessToken`: client credentials in the form body, then the grant.
pub(super) async fn access_token(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let config = &sandbox.inner.config;
    sandbox.lock().stats.token_calls += 1;
    let form_encoded = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !form_encoded {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request must be application/x-www-form-urlencoded",
        );
    }
    let params = form_pairs(&body);
    let param = |name: &str| {
        params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };

    // LinkedIn reads the client credentials from the body only; HTTP Basic alone is refused.
    let (Some(client_id), Some(client_secret)) = (param("client_id"), param("client_secret"))
    else {
        let basic = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("basic "));
        if basic {
            return token_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Client authentication failed: client_id and client_secret must be sent in the request body",
            );
        }
        return missing(if param("client_id").is_none() {
            "client_id"
        } else {
            "client_secret"
        });
    };
    let id_ok = client_id.as_bytes().ct_eq(config.client_id.as_bytes());
    let secret_ok = client_secret
        .as_bytes()
        .ct_eq(config.client_secret.as_bytes());
    if !bool::from(id_ok & secret_ok) {
        return token_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }

    match param("grant_type") {
        None => missing("grant_type"),
        Some("authorization_code") => exchange_code(&sandbox, client_id, &param),
        Some("refresh_token") => refresh(&sandbox, &param),
        Some(other) => token_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!("grant_type \"{other}\" is not supported"),
        ),
    }
}

fn exchange_code<'a>(
    sandbox: &Sandbox,
    client_id: &str,
    param: &impl Fn(&str) -> Option<&'a str>,
) -> Response {
    let config = &sandbox.inner.config;
    let Some(code) = param("code") else {
        return missing("code");
    };
    let Some(redirect_uri) = param("redirect_uri") else {
        return missing("redirect_uri");
    };
    let now = now_ms();
    let mut state = sandbox.lock();
    let member = state.world.member.clone();
    let oauth = &mut state.oauth;
    // Single use: any attempt consumes the code, so a replay finds nothing.
    let Some(grant) = oauth.codes.remove(code) else {
        return token_error(StatusCode::UNAUTHORIZED, "invalid_request", CODE_NOT_FOUND);
    };
    let verifier_ok = match (&grant.challenge, param("code_verifier")) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(challenge), Some(verifier)) => {
            let digest = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            bool::from(digest.as_bytes().ct_eq(challenge.as_bytes()))
        }
    };
    if grant.expires_at <= now
        || grant.client_id != client_id
        || grant.redirect_uri != redirect_uri
        || !verifier_ok
    {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_redirect_uri",
            CODE_MISMATCH,
        );
    }
    let refresh_token = random_token("AQW", 150);
    oauth.grants.push(Grant {
        member,
        refresh_token: refresh_token.clone(),
        refresh_expires_at: now + config.refresh_token_ttl * 1000,
        revoked: false,
    });
    let index = oauth.grants.len() - 1;
    let access_token = oauth.issue_access_token(index, config.access_token_ttl, now);
    drop(state);
    // LinkedIn's shape: no token_type; scopes joined with the configured separator.
    let mut body = json!({
        "access_token": access_token,
        "expires_in": config.access_token_ttl,
        "scope": grant.scopes.join(&config.scope_separator),
    });
    if config.programmatic_refresh {
        body["refresh_token"] = json!(refresh_token);
        body["refresh_token_expires_in"] = json!(config.refresh_token_ttl);
    }
    token_ok(body)
}

fn refresh<'a>(sandbox: &Sandbox, param: &impl Fn(&str) -> Option<&'a str>) -> Response {
    let config = &sandbox.inner.config;
    let Some(refresh_token) = param("refresh_token") else {
        return missing("refresh_token");
    };
    let now = now_ms();
    let mut state = sandbox.lock();
    let oauth = &mut state.oauth;
    let found = oauth.grants.iter().position(|g| {
        bool::from(g.refresh_token.as_bytes().ct_eq(refresh_token.as_bytes()))
            && !g.revoked
            && g.refresh_expires_at > now
    });
    let Some(index) = found else {
        return token_error(StatusCode::BAD_REQUEST, "invalid_request", BAD_REFRESH);
    };
    let access_token = oauth.issue_access_token(index, config.access_token_ttl, now);
    // The refresh token keeps the expiry of the first grant: refreshing never extends it.
    let remaining = (oauth.grants[index].refresh_expires_at - now) / 1000;
    drop(state);
    // Like LinkedIn's documented refresh response: no scope, no token_type.
    token_ok(json!({
        "access_token": access_token,
        "expires_in": config.access_token_ttl,
        "refresh_token": refresh_token,
        "refresh_token_expires_in": remaining,
    }))
}

fn token_ok(body: serde_json::Value) -> Response {
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(body),
    )
        .into_response()
}
