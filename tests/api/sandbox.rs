//! The LinkedIn sandbox, black-box over real HTTP: OAuth, the API's header and Rest.li rules,
//! paging, the forbidden account, faults, webhooks, and the generated data against our parser.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use axum::{
    Json, Router,
    extract::{Query, State},
    http::{HeaderMap, StatusCode as AxumStatus},
    routing::post,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use leadsync::linkedin::{
    model, restli,
    sandbox::{FaultKind, Faults, Sandbox, SandboxConfig, WebhookAction, WebhookMode},
};
use reqwest::{StatusCode, header, redirect::Policy};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

const REDIRECT: &str = "https://app.example.com/linkedin/callback";
const SCOPE: &str = "r_ads r_organization_admin r_marketing_leadgen_automation";
/// The version leadsync sends by default, which the sandbox must accept.
fn version() -> String {
    leadsync::linkedin::version::DEFAULT.to_string()
}
const DAY_MS: i64 = 86_400_000;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/linkedin/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn token_error(index: usize) -> Value {
    fixture("oauth.json")["token_errors"][index]["body"].clone()
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A client that never follows redirects (we read `Location` ourselves).
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("reqwest client")
}

async fn start(config: SandboxConfig) -> Sandbox {
    let sandbox = Sandbox::new(config);
    sandbox.start("127.0.0.1:0").await.expect("start sandbox");
    sandbox
}

fn registered() -> SandboxConfig {
    SandboxConfig {
        redirect_uri: Some(REDIRECT.into()),
        ..SandboxConfig::default()
    }
}

/// A PKCE verifier and its S256 challenge.
fn pkce() -> (String, String) {
    let verifier = format!(
        "{}{}",
        URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>()),
        "-._~"
    );
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn authorize_url(sandbox: &Sandbox, extra: &[(&str, &str)]) -> reqwest::Url {
    let config = sandbox.config();
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", config.client_id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", SCOPE),
    ];
    params.extend_from_slice(extra);
    reqwest::Url::parse_with_params(&sandbox.auth_url(), &params).expect("authorize url")
}

/// The query parameters of the `Location` a redirect points at.
fn location_params(response: &reqwest::Response) -> HashMap<String, String> {
    let location = response
        .headers()
        .get(header::LOCATION)
        .expect("a Location header")
        .to_str()
        .expect("ASCII Location");
    let url = reqwest::Url::parse(location).expect("absolute Location");
    assert!(location.starts_with(REDIRECT), "{location}");
    url.query_pairs().into_owned().collect()
}

/// Authorizes with PKCE; returns the code (the state was checked).
async fn authorize(sandbox: &Sandbox, challenge: &str) -> String {
    let state = "csrf token/é+&=";
    let url = authorize_url(
        sandbox,
        &[
            ("state", state),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let response = http().get(url).send().await.expect("authorize");
    assert_eq!(response.status(), StatusCode::FOUND);
    let params = location_params(&response);
    assert_eq!(params.get("state").map(String::as_str), Some(state));
    params.get("code").cloned().expect("a code")
}

async fn exchange(sandbox: &Sandbox, code: &str, verifier: Option<&str>) -> reqwest::Response {
    let config = sandbox.config();
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", config.client_id.as_str()),
        ("client_secret", config.client_secret.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    if let Some(verifier) = verifier {
        form.push(("code_verifier", verifier));
    }
    http()
        .post(sandbox.token_url())
        .form(&form)
        .send()
        .await
        .expect("token request")
}

async fn refresh(sandbox: &Sandbox, refresh_token: &str) -> reqwest::Response {
    let config = sandbox.config();
    http()
        .post(sandbox.token_url())
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", config.client_id.as_str()),
            ("client_secret", config.client_secret.as_str()),
        ])
        .send()
        .await
        .expect("refresh request")
}

/// The whole grant: authorize, exchange with PKCE; returns the token response.
async fn grant(sandbox: &Sandbox) -> Value {
    let (verifier, challenge) = pkce();
    let code = authorize(sandbox, &challenge).await;
    let response = exchange(sandbox, &code, Some(&verifier)).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("token JSON")
}

async fn access_token(sandbox: &Sandbox) -> String {
    grant(sandbox).await["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// `GET {api}{path_and_query}` with LinkedIn's headers.
async fn get(sandbox: &Sandbox, token: &str, path_and_query: &str) -> reqwest::Response {
    http()
        .get(format!("{}{path_and_query}", sandbox.api_url()))
        .bearer_auth(token)
        .header("LinkedIn-Version", version())
        .header("X-Restli-Protocol-Version", "2.0.0")
        .send()
        .await
        .expect("API request")
}

async fn get_json(sandbox: &Sandbox, token: &str, path_and_query: &str) -> (StatusCode, Value) {
    let response = get(sandbox, token, path_and_query).await;
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

fn accounts_query() -> String {
    format!(
        "/adAccounts?{}",
        restli::encode_query(&[
            ("q", json!("search")),
            (
                "search",
                json!({"status": {"values": ["ACTIVE"]}, "test": false})
            ),
        ])
    )
}

fn owner(account: &str) -> Value {
    json!({ "sponsoredAccount": format!("urn:li:sponsoredAccount:{account}") })
}

fn leads_query(account: &str, from: i64, to: i64, start: usize, count: usize) -> String {
    restli::encode_query(&[
        ("q", json!("owner")),
        ("owner", owner(account)),
        ("leadType", json!({ "leadType": "SPONSORED" })),
        ("limitedToTestLeads", json!(false)),
        ("submittedAtTimeRange", json!({ "start": from, "end": to })),
        ("start", json!(start)),
        ("count", json!(count)),
    ])
}

fn usable_accounts(sandbox: &Sandbox) -> Vec<String> {
    sandbox
        .accounts()
        .into_iter()
        .filter(|a| !a.forbidden)
        .map(|a| a.id)
        .collect()
}

fn forbidden_account(sandbox: &Sandbox) -> String {
    sandbox
        .accounts()
        .into_iter()
        .find(|a| a.forbidden)
        .expect("a forbidden account")
        .id
}

fn ids(elements: &[Value]) -> Vec<String> {
    elements
        .iter()
        .map(|e| e["id"].as_str().expect("string id").to_owned())
        .collect()
}

// ------------------------------------------------------------------ OAuth

#[tokio::test]
async fn oauth_round_trip_with_pkce_then_api() {
    let sandbox = start(registered()).await;
    let (verifier, challenge) = pkce();
    let code = authorize(&sandbox, &challenge).await;
    let response = exchange(&sandbox, &code, Some(&verifier)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let token: Value = response.json().await.unwrap();
    let fields: HashSet<&str> = token
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        HashSet::from([
            "access_token",
            "expires_in",
            "refresh_token",
            "refresh_token_expires_in",
            "scope"
        ]),
        "LinkedIn sends no token_type"
    );
    assert!(token["access_token"].as_str().unwrap().len() >= 80);
    assert_eq!(token["expires_in"], 5_184_000);
    assert_eq!(token["refresh_token_expires_in"], 31_536_000);
    assert_eq!(
        token["scope"],
        "r_ads,r_organization_admin,r_marketing_leadgen_automation"
    );

    let access = token["access_token"].as_str().unwrap();
    let (status, body) = get_json(&sandbox, access, &accounts_query()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let listed: Vec<String> = body["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap().to_string())
        .collect();
    let truth: Vec<String> = sandbox.accounts().into_iter().map(|a| a.id).collect();
    assert_eq!(listed, truth, "the forbidden account is listed too");
    assert_eq!(body["paging"]["total"], truth.len());
    let first = &body["elements"][0];
    assert_eq!(first["status"], "ACTIVE");
    assert_eq!(first["test"], false);
    assert!(
        first["reference"]
            .as_str()
            .unwrap()
            .starts_with("urn:li:organization:")
    );
    assert!(first["currency"].is_string());
    assert!(first["referenceInfo"]["organization"]["localizedName"].is_string());
    assert_eq!(sandbox.stats().token_calls, 1);
}

#[tokio::test]
async fn scope_separator_and_space_encodings() {
    let sandbox = start(SandboxConfig {
        scope_separator: " ".into(),
        ..SandboxConfig::default()
    })
    .await;
    // `%20` instead of `+` for the spaces, and no PKCE: both are fine.
    let url = format!(
        "{}?response_type=code&client_id=sandbox-client&redirect_uri={}&state=s&scope=r_ads%20r_organization_admin%20r_marketing_leadgen_automation",
        sandbox.auth_url(),
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    let response = http().get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let code = location_params(&response)["code"].clone();
    let token: Value = exchange(&sandbox, &code, None).await.json().await.unwrap();
    assert_eq!(
        token["scope"],
        "r_ads r_organization_admin r_marketing_leadgen_automation"
    );
}

#[tokio::test]
async fn authorization_page_errors() {
    let sandbox = start(registered()).await;
    let client = http();

    // Unknown client and unregistered redirect URI: an error page, never a redirect.
    let mut url = authorize_url(&sandbox, &[("state", "s")]);
    url.query_pairs_mut().clear().extend_pairs([
        ("response_type", "code"),
        ("client_id", "someone-else"),
        ("redirect_uri", REDIRECT),
        ("scope", SCOPE),
    ]);
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get(header::LOCATION).is_none());
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let mut url = authorize_url(&sandbox, &[]);
    url.query_pairs_mut().clear().extend_pairs([
        ("response_type", "code"),
        ("client_id", "sandbox-client"),
        ("redirect_uri", "https://evil.example.com/callback"),
        ("scope", SCOPE),
    ]);
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get(header::LOCATION).is_none());

    // A missing scope comes back to the redirect URI as an error.
    let mut url = authorize_url(&sandbox, &[]);
    url.query_pairs_mut().clear().extend_pairs([
        ("response_type", "code"),
        ("client_id", "sandbox-client"),
        ("redirect_uri", REDIRECT),
        ("scope", "r_ads"),
        ("state", "s1"),
    ]);
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let params = location_params(&response);
    assert_eq!(params["error"], "invalid_scope");
    assert_eq!(params["state"], "s1");
    assert!(!params.contains_key("code"));

    // The member refuses.
    sandbox.refuse_authorizations(true);
    let response = client
        .get(authorize_url(&sandbox, &[("state", "s2")]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let params = location_params(&response);
    assert_eq!(params["error"], "user_cancelled_authorize");
    assert!(params.contains_key("error_description"));
    assert_eq!(params["state"], "s2");
    assert!(!params.contains_key("code"));
    sandbox.refuse_authorizations(false);
    let response = client
        .get(authorize_url(&sandbox, &[("state", "s3")]))
        .send()
        .await
        .unwrap();
    assert!(location_params(&response).contains_key("code"));
}

// ------------------------------------------------------------------ interactive sign-in

/// An interactive sandbox whose app name needs escaping and whose member has an email.
fn interactive() -> SandboxConfig {
    SandboxConfig {
        interactive_sign_in: true,
        app_name: "Acme <Leads> & Co".into(),
        member_name: "Ada O'Hara".into(),
        member_email: Some("ada@example.com".into()),
        ..registered()
    }
}

/// The hidden `request_id` a sign-in or permissions page carries.
fn request_id(page: &str) -> String {
    let marker = "name=\"request_id\" value=\"";
    let start = page
        .find(marker)
        .unwrap_or_else(|| panic!("no request_id: {page}"))
        + marker.len();
    let end = start + page[start..].find('"').unwrap();
    page[start..end].to_owned()
}

/// The attribute `name` of the first tag in `tag`, if any.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let marker = format!(" {name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let end = start + tag[start..].find('"')?;
    Some(&tag[start..end])
}

/// What the axe scan will ask of a sandbox page, checked on its text: a language, a title, one
/// main landmark and one h1, a label bound to every visible input, no inline event handlers or
/// scripts.
fn assert_accessible_shape(page: &str) {
    assert!(
        page.starts_with("<!DOCTYPE html><html lang=\"en\">"),
        "{page}"
    );
    let title = &page[page.find("<title>").expect("a title") + 7..page.find("</title>").unwrap()];
    assert!(!title.trim().is_empty(), "{page}");
    assert_eq!(page.matches("<main").count(), 1, "{page}");
    assert_eq!(page.matches("<h1").count(), 1, "{page}");
    assert!(!page.contains("<script"), "{page}");
    let lower = page.to_ascii_lowercase();
    for handler in [
        " onclick=",
        " onsubmit=",
        " onload=",
        " onchange=",
        " oninput=",
    ] {
        assert!(!lower.contains(handler), "{handler} in {page}");
    }
    for piece in page.split("<input").skip(1) {
        let tag = &piece[..piece.find('>').unwrap()];
        if attribute(tag, "type") == Some("hidden") {
            continue;
        }
        let id = attribute(tag, "id").unwrap_or_else(|| panic!("an input without id: {tag}"));
        assert!(
            page.contains(&format!("<label for=\"{id}\">")),
            "no label for {id}: {page}"
        );
        if let Some(described) = attribute(tag, "aria-describedby") {
            assert!(page.contains(&format!("id=\"{described}\"")), "{page}");
        }
    }
}

async fn html(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    assert!(response.headers().get(header::LOCATION).is_none());
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    (status, response.text().await.unwrap())
}

async fn post_form(sandbox: &Sandbox, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    let base = sandbox.auth_url().replace("/oauth/v2/authorization", "");
    http()
        .post(format!("{base}{path}"))
        .form(form)
        .send()
        .await
        .expect("form post")
}

async fn sign_in(sandbox: &Sandbox, id: &str, password: &str) -> reqwest::Response {
    post_form(
        sandbox,
        "/oauth/v2/login-submit",
        &[
            ("request_id", id),
            ("session_key", "ada@example.com"),
            ("session_password", password),
        ],
    )
    .await
}

async fn decide(sandbox: &Sandbox, id: &str, action: &str) -> reqwest::Response {
    post_form(
        sandbox,
        "/oauth/v2/authorization-decision",
        &[("request_id", id), ("action", action)],
    )
    .await
}

/// Opens the authorization URL of an interactive sandbox; returns the sign-in page's request id.
async fn sign_in_page(sandbox: &Sandbox, extra: &[(&str, &str)]) -> String {
    let response = http()
        .get(authorize_url(sandbox, extra))
        .send()
        .await
        .unwrap();
    let (status, page) = html(response).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("<h1>Sign in</h1>"), "{page}");
    request_id(&page)
}

#[tokio::test]
async fn interactive_sign_in_then_allow_gives_a_code_that_exchanges() {
    let sandbox = start(interactive()).await;
    let (verifier, challenge) = pkce();
    let state = "csrf token/é+&=";
    let scope = format!("{SCOPE} r_ads_reporting");
    let mut url = authorize_url(
        &sandbox,
        &[
            ("state", state),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    // One more scope than Lead Sync needs, to see it listed too.
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .map(|(k, v)| {
            if k == "scope" {
                (k, scope.clone())
            } else {
                (k, v)
            }
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);

    // The sign-in page: the member, the prefilled email, a password, "Sign in".
    let (status, page) = html(http().get(url).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_accessible_shape(&page);
    assert!(page.contains("<h1>Sign in</h1>"), "{page}");
    assert!(page.contains("Ada O&#39;Hara"), "{page}");
    assert!(page.contains("<label for=\"username\">Email or phone</label>"));
    assert!(page.contains("name=\"session_key\""));
    assert!(page.contains("value=\"ada@example.com\""), "{page}");
    assert!(page.contains("<label for=\"password\">Password</label>"));
    assert!(page.contains("name=\"session_password\" type=\"password\""));
    assert!(page.contains("action=\"/oauth/v2/login-submit\""));
    assert!(page.contains("<button type=\"submit\" class=\"wide\">Sign in</button>"));
    assert!(!page.contains("aria-invalid=\"true\""), "no error yet");
    assert!(!page.contains("Acme <Leads>"), "escaped: {page}");
    let id = request_id(&page);
    assert!(id.len() >= 32, "{id}");
    let stats = sandbox.stats();
    assert_eq!((stats.sign_in_pages, stats.permission_pages), (1, 0));

    // An empty password: the page again, the error tied to the field.
    let (status, page) = html(sign_in(&sandbox, &id, "").await).await;
    assert_eq!(status, StatusCode::OK);
    assert_accessible_shape(&page);
    assert!(page.contains("<h1>Sign in</h1>"));
    assert!(
        page.contains("aria-invalid=\"true\" aria-describedby=\"password-error\""),
        "{page}"
    );
    assert!(
        page.contains("<p id=\"password-error\" class=\"error\">Please enter a password.</p>"),
        "{page}"
    );
    assert_eq!(request_id(&page), id, "the same request");
    assert_eq!(sandbox.stats().sign_in_pages, 2);

    // A password: the permissions page, each asked scope in words, Allow and Cancel.
    let (status, page) = html(sign_in(&sandbox, &id, "any password").await).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_accessible_shape(&page);
    assert!(
        page.contains("<h1>Acme &lt;Leads&gt; &amp; Co would like to:</h1>"),
        "{page}"
    );
    for (scope, words) in [
        ("r_ads", "Retrieve your advertising accounts"),
        (
            "r_organization_admin",
            "Retrieve your organization&#39;s pages",
        ),
        (
            "r_marketing_leadgen_automation",
            "Access your lead generation forms and retrieve their leads",
        ),
        (
            "r_ads_reporting",
            "Retrieve reporting for your advertising accounts",
        ),
    ] {
        assert!(
            page.contains(&format!("<li data-scope=\"{scope}\">{words}")),
            "{scope}: {page}"
        );
    }
    assert_eq!(page.matches("<li ").count(), 4, "only the asked scopes");
    assert!(page.contains("Ada O&#39;Hara"));
    assert!(page.contains("action=\"/oauth/v2/authorization-decision\""));
    assert!(page.contains("name=\"action\" value=\"allow\">Allow</button>"));
    assert!(page.contains("name=\"action\" value=\"cancel\" class=\"secondary\">Cancel</button>"));
    assert_eq!(request_id(&page), id);
    let stats = sandbox.stats();
    assert_eq!((stats.sign_in_pages, stats.permission_pages), (2, 1));

    // Allow: the code and the same state, as without the pages; the code exchanges.
    let response = decide(&sandbox, &id, "allow").await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let params = location_params(&response);
    assert_eq!(params["state"], state);
    assert!(!params.contains_key("error"));
    let response = exchange(&sandbox, &params["code"], Some(&verifier)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let token: Value = response.json().await.unwrap();
    assert_eq!(
        token["scope"],
        "r_ads,r_organization_admin,r_marketing_leadgen_automation,r_ads_reporting"
    );
    assert!(token["access_token"].as_str().unwrap().len() >= 80);

    // The request is used up: both forms now answer the error page.
    for response in [
        decide(&sandbox, &id, "allow").await,
        decide(&sandbox, &id, "cancel").await,
        sign_in(&sandbox, &id, "any password").await,
        sign_in(&sandbox, "not-a-request", "any password").await,
        decide(&sandbox, "not-a-request", "allow").await,
        decide(&sandbox, "", "allow").await,
    ] {
        let (status, page) = html(response).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_accessible_shape(&page);
        assert!(page.contains("unknown, expired or already used"), "{page}");
    }
}

#[tokio::test]
async fn interactive_cancel_redirects_with_user_cancelled_authorize() {
    let sandbox = start(interactive()).await;
    let id = sign_in_page(&sandbox, &[("state", "s1")]).await;

    // Allow or Cancel before signing in is refused, and the request stays usable.
    let (status, page) = html(decide(&sandbox, &id, "allow").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("Sign in before"), "{page}");
    let (status, _) = html(decide(&sandbox, &id, "maybe").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, _) = html(sign_in(&sandbox, &id, "secret").await).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = html(decide(&sandbox, &id, "maybe").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an unknown action");
    let response = decide(&sandbox, &id, "cancel").await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()[header::LOCATION].to_str().unwrap();
    assert!(
        location.contains(
            "error=user_cancelled_authorize&error_description=The+user+cancelled+the+authorization&state=s1"
        ),
        "{location}"
    );
    let params = location_params(&response);
    assert_eq!(params["error"], "user_cancelled_authorize");
    assert_eq!(params["state"], "s1");
    assert!(!params.contains_key("code"));
    let (status, _) = html(decide(&sandbox, &id, "allow").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "cancelled is used up");
}

#[tokio::test]
async fn interactive_mode_validates_first_and_refuses_when_told() {
    let sandbox = start(SandboxConfig {
        interactive_sign_in: true,
        ..registered()
    })
    .await;
    let client = http();

    // A bad client: the error page, before any sign-in page.
    let mut url = authorize_url(&sandbox, &[("state", "s")]);
    url.query_pairs_mut().clear().extend_pairs([
        ("response_type", "code"),
        ("client_id", "someone-else"),
        ("redirect_uri", REDIRECT),
        ("scope", SCOPE),
    ]);
    let (status, page) = html(client.get(url).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_accessible_shape(&page);
    assert!(page.contains("client_id is not valid"), "{page}");
    assert!(!page.contains("session_password"));

    // A missing scope: the error redirect, as without the pages.
    let mut url = authorize_url(&sandbox, &[]);
    url.query_pairs_mut().clear().extend_pairs([
        ("response_type", "code"),
        ("client_id", "sandbox-client"),
        ("redirect_uri", REDIRECT),
        ("scope", "r_ads"),
        ("state", "s1"),
    ]);
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(location_params(&response)["error"], "invalid_scope");
    assert_eq!(sandbox.stats().sign_in_pages, 0);

    // Without a configured email, a sandbox address is prefilled.
    let response = client
        .get(authorize_url(&sandbox, &[("state", "s2")]))
        .send()
        .await
        .unwrap();
    let (_, page) = html(response).await;
    assert!(
        page.contains(&format!(
            "value=\"{}\"",
            leadsync::linkedin::sandbox::SANDBOX_MEMBER_EMAIL
        )),
        "{page}"
    );
    assert!(page.contains(&sandbox.config().member_name));

    // Refusing still refuses, before any page.
    sandbox.refuse_authorizations(true);
    let response = client
        .get(authorize_url(&sandbox, &[("state", "s3")]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(
        location_params(&response)["error"],
        "user_cancelled_authorize"
    );
    sandbox.refuse_authorizations(false);

    // Switched off at run time: approved at once again; and back on.
    sandbox.interactive_sign_in(false);
    let response = client
        .get(authorize_url(&sandbox, &[("state", "s4")]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert!(location_params(&response).contains_key("code"));
    sandbox.interactive_sign_in(true);
    sign_in_page(&sandbox, &[("state", "s5")]).await;
    assert_eq!(sandbox.stats().sign_in_pages, 2);

    // A default sandbox turned interactive by the setter.
    let plain = start(registered()).await;
    plain.interactive_sign_in(true);
    sign_in_page(&plain, &[("state", "s6")]).await;
}

#[tokio::test]
async fn token_endpoint_errors_use_linkedins_bodies() {
    let sandbox = start(registered()).await;
    let config = sandbox.config().clone();
    let client = http();

    // Missing code.
    let response = client
        .post(sandbox.token_url())
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", config.client_id.as_str()),
            ("client_secret", config.client_secret.as_str()),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.json::<Value>().await.unwrap(), token_error(0));

    // A code used once cannot be replayed.
    let (verifier, challenge) = pkce();
    let code = authorize(&sandbox, &challenge).await;
    assert_eq!(
        exchange(&sandbox, &code, Some(&verifier)).await.status(),
        StatusCode::OK
    );
    let replay = exchange(&sandbox, &code, Some(&verifier)).await;
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(replay.json::<Value>().await.unwrap(), token_error(1));

    // A wrong or missing verifier, or another redirect URI, does not match the code.
    for verifier in [Some("wrong-verifier-wrong-verifier-wrong-verifier-0"), None] {
        let code = authorize(&sandbox, &challenge).await;
        let response = exchange(&sandbox, &code, verifier).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(response.json::<Value>().await.unwrap(), token_error(2));
    }
    let code = authorize(&sandbox, &challenge).await;
    let response = client
        .post(sandbox.token_url())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", config.client_id.as_str()),
            ("client_secret", config.client_secret.as_str()),
            ("redirect_uri", "https://app.example.com/other"),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.json::<Value>().await.unwrap(), token_error(2));

    // Client credentials only in an HTTP Basic header are refused.
    let code = authorize(&sandbox, &challenge).await;
    let response = client
        .post(sandbox.token_url())
        .basic_auth(&config.client_id, Some(&config.client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );

    // A wrong secret.
    let response = client
        .post(sandbox.token_url())
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "anything"),
            ("client_id", config.client_id.as_str()),
            ("client_secret", "not-the-secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
}

#[tokio::test]
async fn refresh_keeps_the_first_grants_expiry() {
    let sandbox = start(registered()).await;
    let token = grant(&sandbox).await;
    let refresh_token = token["refresh_token"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let response = refresh(&sandbox, refresh_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let refreshed: Value = response.json().await.unwrap();
    assert_eq!(refreshed["refresh_token"], refresh_token);
    let remaining = refreshed["refresh_token_expires_in"].as_i64().unwrap();
    assert!(
        (31_536_000 - 10..31_536_000).contains(&remaining),
        "refreshing must not extend the refresh token: {remaining}"
    );
    assert!(refreshed.get("token_type").is_none());
    let new_access = refreshed["access_token"].as_str().unwrap();
    assert_ne!(new_access, token["access_token"].as_str().unwrap());
    assert_eq!(
        get(&sandbox, new_access, &accounts_query()).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn revoked_tokens_fail_and_cannot_refresh() {
    let sandbox = start(registered()).await;
    let token = grant(&sandbox).await;
    sandbox.revoke_tokens();
    let (status, body) = get_json(
        &sandbox,
        token["access_token"].as_str().unwrap(),
        &accounts_query(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, fixture("errors.json")["revoked_token"]);
    let response = refresh(&sandbox, token["refresh_token"].as_str().unwrap()).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.json::<Value>().await.unwrap(), token_error(3));
    // A new authorization works again.
    let access = access_token(&sandbox).await;
    assert_eq!(
        get(&sandbox, &access, &accounts_query()).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn expired_tokens_fail_until_refreshed() {
    let sandbox = start(registered()).await;
    let token = grant(&sandbox).await;
    sandbox.expire_access_tokens();
    let (status, body) = get_json(
        &sandbox,
        token["access_token"].as_str().unwrap(),
        &accounts_query(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, fixture("errors.json")["expired_token"]);
    let refreshed: Value = refresh(&sandbox, token["refresh_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    let (status, _) = get_json(
        &sandbox,
        refreshed["access_token"].as_str().unwrap(),
        &accounts_query(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn access_tokens_expire_with_their_lifetime() {
    let sandbox = start(SandboxConfig {
        access_token_ttl: 1,
        ..registered()
    })
    .await;
    let token = grant(&sandbox).await;
    assert_eq!(token["expires_in"], 1);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let (status, body) = get_json(
        &sandbox,
        token["access_token"].as_str().unwrap(),
        &accounts_query(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["serviceErrorCode"], 65602);
}

// ------------------------------------------------------------------ headers and Rest.li

#[tokio::test]
async fn api_headers_are_enforced() {
    let sandbox = start(SandboxConfig::default()).await;
    let token = access_token(&sandbox).await;
    let errors = fixture("errors.json");
    let url = format!("{}{}", sandbox.api_url(), accounts_query());
    let client = http();

    let response = client
        .get(&url)
        .header("LinkedIn-Version", version())
        .header("X-Restli-Protocol-Version", "2.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        errors["empty_token"]
    );

    let (status, body) = get_json(&sandbox, "not-a-token", &accounts_query()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["serviceErrorCode"], 65600);
    assert_eq!(body["message"], "Invalid access token");

    let response = client
        .get(&url)
        .bearer_auth(&token)
        .header("LinkedIn-Version", version())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("X-Restli-Protocol-Version"),
        "{body}"
    );

    let response = client
        .get(&url)
        .bearer_auth(&token)
        .header("X-Restli-Protocol-Version", "2.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.json::<Value>().await.unwrap()["status"], 400);

    let response = client
        .get(&url)
        .bearer_auth(&token)
        .header("LinkedIn-Version", "20230901")
        .header("X-Restli-Protocol-Version", "2.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UPGRADE_REQUIRED);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        errors["inactive_version"]
    );

    let response = client
        .get(&url)
        .bearer_auth(&token)
        .header("LinkedIn-Version", version())
        .header("X-Restli-Protocol-Version", "2.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // By the sandbox's clock, like LinkedIn: the month's version and the last year's are active,
    // a retired one (the old default), a never-published one and a future one are not.
    let today = chrono::Utc::now().date_naive();
    let this_month = leadsync::linkedin::version::ApiVersion::of_month(today);
    let retired = "202405".to_owned();
    for (header, active) in [
        (this_month.to_string(), true),
        (retired, false),
        ("202512".to_owned(), false),
        (this_month.plus_months(1).to_string(), false),
    ] {
        let response = client
            .get(&url)
            .bearer_auth(&token)
            .header("LinkedIn-Version", &header)
            .header("X-Restli-Protocol-Version", "2.0.0")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().is_success(), active, "{header}");
    }
}

#[tokio::test]
async fn restli_queries_are_decoded_strictly_and_may_be_posted() {
    let sandbox = start(SandboxConfig::default()).await;
    let token = access_token(&sandbox).await;
    let account = &usable_accounts(&sandbox)[0];

    for bad in [
        "/adAccounts?q=search&search=(status:(values:List(ACTIVE))",
        "/adAccounts?q=search&search=(status:(values:List(ACTIVE)),test:false))",
        "/adAccounts?q=search&search=%zz",
    ] {
        let (status, body) = get_json(&sandbox, &token, bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["status"], 400);
    }
    // An unencoded URN is not valid Rest.li 2.0.
    let raw =
        format!("/leadForms?q=owner&owner=(sponsoredAccount:urn:li:sponsoredAccount:{account})");
    assert_eq!(
        get(&sandbox, &token, &raw).await.status(),
        StatusCode::BAD_REQUEST
    );

    // POST with X-HTTP-Method-Override: GET and the query as a form body is the GET.
    let now = now_ms();
    let query = leads_query(account, now - 365 * DAY_MS, now, 0, 100);
    let (status, via_get) =
        get_json(&sandbox, &token, &format!("/leadFormResponses?{query}")).await;
    assert_eq!(status, StatusCode::OK);
    let response = http()
        .post(format!("{}/leadFormResponses", sandbox.api_url()))
        .bearer_auth(&token)
        .header("LinkedIn-Version", version())
        .header("X-Restli-Protocol-Version", "2.0.0")
        .header("X-HTTP-Method-Override", "GET")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(query.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap(), via_get);

    // A plain POST to a finder is not a GET.
    let response = http()
        .post(format!("{}/leadFormResponses?{query}", sandbox.api_url()))
        .bearer_auth(&token)
        .header("LinkedIn-Version", version())
        .header("X-Restli-Protocol-Version", "2.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);

    // Missing finder parameters are named like LinkedIn does.
    let (status, body) = get_json(&sandbox, &token, "/leadFormResponses?q=owner").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"message": "Parameter 'owner' is required", "status": 400})
    );
}

// ------------------------------------------------------------------ leads, forms, campaigns

/// Every page of lead responses for the account between `from` and `to`.
async fn all_leads(
    sandbox: &Sandbox,
    token: &str,
    account: &str,
    from: i64,
    to: i64,
) -> Vec<Value> {
    let mut elements = Vec::new();
    let mut start = 0;
    loop {
        let (status, body) = get_json(
            sandbox,
            token,
            &format!(
                "/leadFormResponses?{}",
                leads_query(account, from, to, start, 100)
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page = body["elements"].as_array().unwrap().clone();
        assert_eq!(body["paging"]["start"], start);
        assert_eq!(body["paging"]["count"], 100);
        let short = page.len() < 100;
        elements.extend(page);
        if short {
            return elements;
        }
        start += 100;
    }
}

#[tokio::test]
async fn lead_paging_over_a_year_returns_exactly_the_retained_responses() {
    let sandbox = start(SandboxConfig::default()).await;
    let token = access_token(&sandbox).await;
    for account in usable_accounts(&sandbox) {
        let truth = sandbox.responses(&account);
        assert!(truth.len() > 90 && truth.len() < 120, "{}", truth.len());
        let now = now_ms();
        // Asking for 400 days still returns nothing LinkedIn no longer keeps.
        let elements = all_leads(&sandbox, &token, &account, now - 400 * DAY_MS, now).await;
        assert_eq!(ids(&elements), ids(&truth), "same responses, same order");
        let oldest = now - 365 * DAY_MS;
        let times: Vec<i64> = elements
            .iter()
            .map(|e| e["submittedAt"].as_i64().unwrap())
            .collect();
        assert!(times.iter().all(|t| *t >= oldest && *t <= now));
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first");
        let (_, first_page) = get_json(
            &sandbox,
            &token,
            &format!(
                "/leadFormResponses?{}",
                leads_query(&account, 0, now, 0, 100)
            ),
        )
        .await;
        assert_eq!(first_page["paging"]["total"], truth.len());

        // A narrower range is honoured.
        let mid = now - 100 * DAY_MS;
        let recent = all_leads(&sandbox, &token, &account, mid, now).await;
        let expected: Vec<&Value> = truth
            .iter()
            .filter(|e| e["submittedAt"].as_i64().unwrap() >= mid)
            .collect();
        assert_eq!(recent.len(), expected.len());
    }

    // Counts above 100 are capped.
    let account = &usable_accounts(&sandbox)[0];
    let now = now_ms();
    let (_, body) = get_json(
        &sandbox,
        &token,
        &format!(
            "/leadFormResponses?{}",
            leads_query(account, 0, now, 0, 500)
        ),
    )
    .await;
    assert_eq!(body["paging"]["count"], 100);
    assert_eq!(body["elements"].as_array().unwrap().len(), 100);
}

#[tokio::test]
async fn total_is_left_out_when_configured() {
    let sandbox = start(SandboxConfig {
        omit_total: true,
        leads_per_account: 250,
        ..SandboxConfig::default()
    })
    .await;
    let token = access_token(&sandbox).await;
    let account = &usable_accounts(&sandbox)[0];
    let now = now_ms();
    let (_, body) = get_json(
        &sandbox,
        &token,
        &format!(
            "/leadFormResponses?{}",
            leads_query(account, 0, now, 0, 100)
        ),
    )
    .await;
    assert!(body["paging"].get("total").is_none(), "{}", body["paging"]);
    let (_, forms) = get_json(
        &sandbox,
        &token,
        &format!(
            "/leadForms?{}",
            restli::encode_query(&[("q", json!("owner")), ("owner", owner(account))])
        ),
    )
    .await;
    assert!(forms["paging"].get("total").is_none());
    // Paging still ends on the short page.
    let elements = all_leads(&sandbox, &token, account, 0, now).await;
    assert!(elements.len() > 200);
    assert_eq!(ids(&elements), ids(&sandbox.responses(account)));
}

#[tokio::test]
async fn single_responses_by_id() {
    let sandbox = start(SandboxConfig::default()).await;
    let token = access_token(&sandbox).await;
    let account = &usable_accounts(&sandbox)[0];
    let truth = sandbox.responses(account);
    let lead = &truth[truth.len() / 2];
    let id = lead["id"].as_str().unwrap();
    let (status, body) = get_json(&sandbox, &token, &format!("/leadFormResponses/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body, lead);
    let (status, _) = get_json(&sandbox, &token, "/leadFormResponses/no-such-id-1").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    sandbox.delete_lead(id);
    let (status, _) = get_json(&sandbox, &token, &format!("/leadFormResponses/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!ids(&sandbox.responses(account)).contains(&id.to_owned()));

    let added = sandbox.add_leads(account, 3);
    assert_eq!(added.len(), 3);
    let now_truth = ids(&sandbox.responses(account));
    assert_eq!(&now_truth[now_truth.len() - 3..], added.as_slice());
    for id in &added {
        let (status, body) = get_json(&sandbox, &token, &format!("/leadFormResponses/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(model::parse_response(&body).is_ok());
    }
    assert!(sandbox.add_leads("424242", 2).is_empty());
}

#[tokio::test]
async fn campaigns_page_by_token() {
    let sandbox = start(SandboxConfig::default()).await;
    let token = access_token(&sandbox).await;
    let search = json!({ "status": { "values": [
        "ACTIVE", "PAUSED", "ARCHIVED", "COMPLETED", "CANCELED", "DRAFT"
    ] } });
    for account in sandbox.accounts() {
        let base = format!(
            "/adAccounts/{}/adCampaigns?{}",
            account.id,
            restli::encode_query(&[("q", json!("search")), ("search", search.clone())])
        );
        let (status, all) = get_json(&sandbox, &token, &format!("{base}&pageSize=100")).await;
        assert_eq!(status, StatusCode::OK, "{all}");
        assert!(all["metadata"].get("nextPageToken").is_none());
        let all = all["elements"].as_array().unwrap().clone();
        assert!((2..=3).contains(&all.len()));

        let mut paged = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let mut url = format!("{base}&pageSize=1");
            if let Some(token) = &next {
                url.push_str(&format!("&pageToken={}", restli::encode(&json!(token))));
            }
            let (status, body) = get_json(&sandbox, &token, &url).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            paged.extend(body["elements"].as_array().unwrap().clone());
            match body["metadata"]["nextPageToken"].as_str() {
                Some(token) => next = Some(token.to_owned()),
                None => break,
            }
        }
        assert_eq!(paged, all);
        for campaign in &all {
            assert_eq!(
                campaign["account"],
                format!("urn:li:sponsoredAccount:{}", account.id)
            );
            assert!(campaign["id"].is_i64());
            for field in ["name", "status", "type"] {
                assert!(campaign[field].is_string(), "{field}");
            }
            assert!(campaign["runSchedule"]["start"].is_i64());
        }
        // Every lead's campaign is one of the account's campaigns.
        let campaign_urns: HashSet<String> = all
            .iter()
            .map(|c| format!("urn:li:sponsoredCampaign:{}", c["id"]))
            .collect();
        for response in sandbox.responses(&account.id) {
            let urn = response["leadMetadata"]["sponsoredLeadMetadata"]["campaign"]
                .as_str()
                .unwrap();
            assert!(campaign_urns.contains(urn));
        }
        // Only active ones.
        let (_, active) = get_json(
            &sandbox,
            &token,
            &format!(
                "/adAccounts/{}/adCampaigns?{}",
                account.id,
                restli::encode_query(&[
                    ("q", json!("search")),
                    ("search", json!({"status": {"values": ["ACTIVE"]}}))
                ])
            ),
        )
        .await;
        let active = active["elements"].as_array().unwrap();
        assert!(!active.is_empty() && active.iter().all(|c| c["status"] == "ACTIVE"));
    }
    let (status, _) = get_json(
        &sandbox,
        &token,
        &format!(
            "/adAccounts/{}/adCampaigns?q=search&pageToken=bogus",
            usable_accounts(&sandbox)[0]
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_forbidden_account_answers_403_on_lead_calls() {
    let sandbox = start(SandboxConfig::default()).await;
    let token = access_token(&sandbox).await;
    let forbidden = forbidden_account(&sandbox);
    let now = now_ms();
    let (status, body) = get_json(
        &sandbox,
        &token,
        &format!(
            "/leadFormResponses?{}",
            leads_query(&forbidden, 0, now, 0, 100)
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // LinkedIn's message names the version called; the fixture was recorded calling 202405.
    let mut expected = fixture("errors.json")["access_denied"].clone();
    let message = expected["message"]
        .as_str()
        .unwrap()
        .replace("202405", &version());
    expected["message"] = json!(message);
    assert_eq!(body, expected);
    let forms_query = restli::encode_query(&[("q", json!("owner")), ("owner", owner(&forbidden))]);
    let (status, body) = get_json(&sandbox, &token, &format!("/leadForms?{forms_query}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "ACCESS_DENIED");
    let lead = &sandbox.responses(&forbidden)[0];
    let (status, _) = get_json(
        &sandbox,
        &token,
        &format!("/leadFormResponses/{}", lead["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // No approved role on its organization; approved roles on the others.
    let (_, accounts) = get_json(&sandbox, &token, &accounts_query()).await;
    let org_of = |id: &str| {
        accounts["elements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"].as_i64().unwrap().to_string() == id)
            .map(|a| a["reference"].as_str().unwrap().to_owned())
            .unwrap()
    };
    let (status, acls) = get_json(
        &sandbox,
        &token,
        "/organizationAcls?q=roleAssignee&state=APPROVED",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let approved: HashSet<String> = acls["elements"]
        .as_array()
        .unwrap()
        .iter()
        .inspect(|acl| assert_eq!(acl["state"], "APPROVED"))
        .map(|acl| acl["organization"].as_str().unwrap().to_owned())
        .collect();
    assert!(!approved.contains(&org_of(&forbidden)));
    for account in usable_accounts(&sandbox) {
        assert!(approved.contains(&org_of(&account)));
    }
    // The account itself is fine: its campaigns list.
    let (status, _) = get_json(
        &sandbox,
        &token,
        &format!("/adAccounts/{forbidden}/adCampaigns?q=search"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // An account that does not exist.
    let (status, _) = get_json(
        &sandbox,
        &token,
        &format!("/leadFormResponses?{}", leads_query("1", 0, now, 0, 10)),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

// ------------------------------------------------------------------ faults

#[tokio::test]
async fn faults_are_injected_after_the_auth_checks() {
    let sandbox = start(SandboxConfig::default()).await;
    let token = grant(&sandbox).await;
    let access = token["access_token"].as_str().unwrap().to_owned();
    let query = accounts_query();

    sandbox.set_faults(Faults {
        rate: 1.0,
        kinds: vec![FaultKind::Throttle],
        seed: 1,
    });
    let response = get(&sandbox, &access, &query).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().get(header::RETRY_AFTER).is_none());
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        fixture("errors.json")["throttled"]
    );
    // Auth problems are still reported as such, and OAuth is never faulted.
    let (status, _) = get_json(&sandbox, "bogus", &query).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let response = refresh(&sandbox, token["refresh_token"].as_str().unwrap()).await;
    assert_eq!(response.status(), StatusCode::OK);

    sandbox.set_faults(Faults {
        rate: 1.0,
        kinds: vec![FaultKind::Truncated],
        seed: 1,
    });
    let response = get(&sandbox, &access, &query).await;
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.bytes().await.unwrap();
    assert!(!bytes.is_empty());
    assert!(serde_json::from_slice::<Value>(&bytes).is_err());

    for (kind, status) in [
        (FaultKind::ServerError, StatusCode::INTERNAL_SERVER_ERROR),
        (FaultKind::Unavailable, StatusCode::SERVICE_UNAVAILABLE),
    ] {
        sandbox.set_faults(Faults {
            rate: 1.0,
            kinds: vec![kind],
            seed: 1,
        });
        assert_eq!(get(&sandbox, &access, &query).await.status(), status);
    }

    sandbox.set_faults(Faults {
        rate: 1.0,
        kinds: vec![FaultKind::Slow(Duration::from_millis(300))],
        seed: 1,
    });
    let started = Instant::now();
    assert_eq!(
        get(&sandbox, &access, &query).await.status(),
        StatusCode::OK
    );
    assert!(started.elapsed() >= Duration::from_millis(300));

    // The same seed fails the same calls.
    let mut runs = Vec::new();
    for _ in 0..2 {
        sandbox.set_faults(Faults {
            rate: 0.5,
            kinds: vec![],
            seed: 7,
        });
        let mut statuses = Vec::new();
        for _ in 0..12 {
            statuses.push(get(&sandbox, &access, &query).await.status().as_u16());
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(
        runs[0].contains(&200) && runs[0].iter().any(|s| *s != 200),
        "{:?}",
        runs[0]
    );

    sandbox.set_faults(Faults::default());
    assert_eq!(
        get(&sandbox, &access, &query).await.status(),
        StatusCode::OK
    );

    let stats = sandbox.stats();
    let failed_per_run = runs[0].iter().filter(|s| **s != 200).count() as u64;
    assert_eq!(stats.faults_injected, 5 + 2 * failed_per_run);
    assert!(stats.by_status[&429] >= 1);
    assert_eq!(stats.by_status[&401], 1);
    assert_eq!(stats.rest_calls, stats.by_status.values().sum::<u64>());
    assert_eq!(stats.token_calls, 2);
}

// ------------------------------------------------------------------ webhooks

type Received = (String, String);

#[derive(Clone)]
struct Receiver {
    secret: String,
    tx: mpsc::UnboundedSender<Received>,
}

fn hmac_hex(key: &str, message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Accepts the body signed in either documented form (constant-time), rejects the rest.
fn verify(secret: &str, body: &str, signature: &str) -> bool {
    use subtle::ConstantTimeEq;
    let signature = signature.trim().to_ascii_lowercase();
    [
        hmac_hex(secret, &format!("hmacsha256={body}")),
        hmac_hex(secret, body),
    ]
    .iter()
    .any(|expected| bool::from(expected.as_bytes().ct_eq(signature.as_bytes())))
}

async fn hook(State(receiver): State<Receiver>, headers: HeaderMap, body: String) -> AxumStatus {
    let signature = headers
        .get("x-li-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let valid = verify(&receiver.secret, &body, &signature);
    receiver.tx.send((signature, body)).ok();
    if valid {
        AxumStatus::OK
    } else {
        AxumStatus::UNAUTHORIZED
    }
}

async fn challenge(
    State(receiver): State<Receiver>,
    Query(query): Query<HashMap<String, String>>,
) -> Json<Value> {
    let code = query.get("challengeCode").cloned().unwrap_or_default();
    Json(json!({
        "challengeCode": code,
        "challengeResponse": hmac_hex(&receiver.secret, &code),
    }))
}

/// A tiny webhook server; returns its URL and what it receives.
async fn webhook_receiver(secret: &str) -> (String, mpsc::UnboundedReceiver<Received>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let state = Receiver {
        secret: secret.to_owned(),
        tx,
    };
    let app = Router::new()
        .route("/linkedin/webhook", post(hook).get(challenge))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/linkedin/webhook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rx)
}

/// The next notification: its signature, raw body and parsed body.
async fn next(rx: &mut mpsc::UnboundedReceiver<Received>) -> (String, String, Value) {
    let (signature, raw) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a notification in time")
        .expect("receiver open");
    let body = serde_json::from_str(&raw).expect("JSON notification");
    (signature, raw, body)
}

#[tokio::test]
async fn webhooks_subscribe_sign_and_deliver() {
    let sandbox = start(SandboxConfig::default()).await;
    let secret = sandbox.config().client_secret.clone();
    let token = access_token(&sandbox).await;
    let account = usable_accounts(&sandbox)[0].clone();
    let urn = format!("urn:li:sponsoredAccount:{account}");
    let (url, mut rx) = webhook_receiver(&secret).await;
    assert!(sandbox.validate_webhook(&url).await.unwrap());

    let subscribe = |body: Value| {
        http()
            .post(format!("{}/leadNotifications", sandbox.api_url()))
            .bearer_auth(&token)
            .header("LinkedIn-Version", version())
            .header("X-Restli-Protocol-Version", "2.0.0")
            .json(&body)
            .send()
    };
    let response = subscribe(json!({
        "webhook": url, "owner": { "sponsoredAccount": urn }, "leadType": "SPONSORED"
    }))
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let id = response.headers()["x-restli-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        sandbox.webhook_subscriptions(),
        vec![(id.clone(), url.clone(), urn.clone())]
    );
    let forbidden = format!("urn:li:sponsoredAccount:{}", forbidden_account(&sandbox));
    let response = subscribe(json!({
        "webhook": url, "owner": { "sponsoredAccount": forbidden }, "leadType": "SPONSORED"
    }))
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // Both signature forms verify; a forged one does not.
    let lead = sandbox.responses(&account)[0].clone();
    let lead_id = lead["id"].as_str().unwrap();
    let status = sandbox
        .send_webhook(&url, WebhookAction::Created, lead_id, WebhookMode::Signed)
        .await
        .unwrap();
    assert_eq!(status, 200);
    let (signature, raw, body) = next(&mut rx).await;
    assert_eq!(signature, hmac_hex(&secret, &format!("hmacsha256={raw}")));
    assert_eq!(body["type"], "LEAD_ACTION");
    assert_eq!(body["leadAction"], "CREATED");
    assert_eq!(body["leadGenFormResponse"], lead["id"]);
    assert_eq!(body["owner"]["sponsoredAccount"], urn);
    assert_eq!(body["leadGenForm"], lead["versionedLeadGenFormUrn"]);
    assert_eq!(body["leadType"], "SPONSORED");
    assert!(body["occurredAt"].as_i64().unwrap() > 1_600_000_000_000);
    assert!(body["notificationId"].is_string());

    let status = sandbox
        .send_webhook(
            &url,
            WebhookAction::Deleted,
            lead_id,
            WebhookMode::SignedPlain,
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    let (signature, raw, body) = next(&mut rx).await;
    assert_eq!(signature, hmac_hex(&secret, &raw));
    assert_eq!(body["leadAction"], "DELETED");

    let status = sandbox
        .send_webhook(&url, WebhookAction::Created, lead_id, WebhookMode::Forged)
        .await
        .unwrap();
    assert_eq!(status, 401);
    next(&mut rx).await;

    let status = sandbox
        .send_webhook(&url, WebhookAction::Created, lead_id, WebhookMode::Twice)
        .await
        .unwrap();
    assert_eq!(status, 200);
    let (_, first, _) = next(&mut rx).await;
    let (_, second, _) = next(&mut rx).await;
    assert_eq!(first, second, "the same notification twice");

    // Lead changes notify the subscribed account's webhook.
    let added = sandbox.add_leads(&account, 2);
    let mut notified = HashSet::new();
    for _ in 0..2 {
        let (signature, raw, body) = next(&mut rx).await;
        assert!(verify(&secret, &raw, &signature));
        assert_eq!(body["leadAction"], "CREATED");
        notified.insert(body["leadGenFormResponse"].as_str().unwrap().to_owned());
    }
    assert_eq!(notified, added.iter().cloned().collect());
    sandbox.delete_lead(&added[0]);
    let (_, _, body) = next(&mut rx).await;
    assert_eq!(body["leadAction"], "DELETED");
    assert_eq!(body["leadGenFormResponse"], added[0].as_str());
    // Another account's leads do not reach this webhook.
    sandbox.add_leads(&usable_accounts(&sandbox)[1], 1);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), rx.recv())
            .await
            .is_err()
    );

    // Unsubscribe.
    let delete = |id: String| {
        http()
            .delete(format!("{}/leadNotifications/{id}", sandbox.api_url()))
            .bearer_auth(&token)
            .header("LinkedIn-Version", version())
            .header("X-Restli-Protocol-Version", "2.0.0")
            .send()
    };
    assert_eq!(
        delete(id.clone()).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert!(sandbox.webhook_subscriptions().is_empty());
    assert_eq!(delete(id).await.unwrap().status(), StatusCode::NOT_FOUND);
    // Fired deliveries are counted once answered; the five sent directly are counted already.
    assert!(sandbox.stats().webhooks_sent >= 5);
}

#[tokio::test]
async fn webhook_validation_fails_on_a_wrong_answer() {
    let sandbox = start(SandboxConfig::default()).await;
    // A receiver that knows another secret answers the challenge wrongly.
    let (url, _rx) = webhook_receiver("another-secret").await;
    assert!(!sandbox.validate_webhook(&url).await.unwrap());
}

// ------------------------------------------------------------------ generated data

#[test]
fn generated_forms_and_responses_parse_and_join() {
    let sandbox = Sandbox::new(SandboxConfig::default());
    let mut locales = HashSet::new();
    let mut predefined = HashSet::new();
    let mut test_leads = 0;
    let mut total = 0;
    // Normalized email → (raw spellings, submitters).
    let mut people: HashMap<String, (HashSet<String>, HashSet<String>)> = HashMap::new();
    let mut orders: HashMap<String, HashSet<Vec<String>>> = HashMap::new();
    for account in sandbox.accounts() {
        let forms: HashMap<(String, i64), model::LeadForm> = sandbox
            .forms(&account.id)
            .iter()
            .map(|json| {
                let form = model::parse_form(json).unwrap_or_else(|e| panic!("{e}: {json}"));
                assert_eq!(form.account_id.as_deref(), Some(account.id.as_str()));
                assert!(!form.hidden_fields.is_empty());
                assert!(!form.consents.is_empty());
                assert!(form.questions.iter().any(|q| !q.options.is_empty()));
                assert!(form.questions.iter().any(|q| q.predefined_field.is_none()));
                locales.insert(form.locale.clone().unwrap());
                predefined.extend(
                    form.questions
                        .iter()
                        .filter_map(|q| q.predefined_field.clone()),
                );
                ((form.linkedin_id.clone(), form.version_id), form)
            })
            .collect();
        assert_eq!(forms.len(), 2);
        for json in sandbox.responses(&account.id) {
            let response = model::parse_response(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
            total += 1;
            test_leads += usize::from(response.test_lead);
            let form = &forms[&(response.form_id.clone(), response.form_version)];
            let email_question = form
                .questions
                .iter()
                .find(|q| q.predefined_field.as_deref() == Some("EMAIL"))
                .unwrap();
            for answer in &response.answers {
                let question = form
                    .questions
                    .iter()
                    .find(|q| q.question_id == answer.question_id)
                    .unwrap_or_else(|| panic!("answer to unknown question {}", answer.question_id));
                match &answer.value {
                    model::AnswerValue::Choices(chosen) => {
                        assert!(!chosen.is_empty());
                        for option in chosen {
                            assert!(question.options.iter().any(|(id, _)| id == option));
                        }
                    }
                    model::AnswerValue::Text(text) => {
                        assert!(question.options.is_empty());
                        if question.question_id == email_question.question_id {
                            let entry = people.entry(text.trim().to_lowercase()).or_default();
                            entry.0.insert(text.clone());
                            entry.1.insert(response.submitter_urn.clone().unwrap());
                        }
                    }
                }
            }
            for (consent, _) in &response.consents {
                assert!(form.consents.iter().any(|c| &c.consent_id == consent));
            }
            orders.entry(response.form_id.clone()).or_default().insert(
                response
                    .answers
                    .iter()
                    .map(|a| a.question_id.clone())
                    .collect(),
            );
        }
    }
    assert_eq!(
        locales,
        HashSet::from(["en_US", "fr_FR", "de_DE", "es_ES"].map(String::from))
    );
    for field in [
        "FIRST_NAME",
        "LAST_NAME",
        "EMAIL",
        "COMPANY_NAME",
        "JOB_TITLE",
        "PHONE_NUMBER",
        "COUNTRY",
    ] {
        assert!(predefined.contains(field), "{field}");
    }
    assert!(
        test_leads > 0 && test_leads * 8 < total,
        "{test_leads} of {total}"
    );
    // Repeated people: the same email in other spellings, always the same member.
    let respelled = people.values().filter(|(raw, _)| raw.len() > 1).count();
    assert!(respelled >= 5, "{respelled} people with several spellings");
    assert!(people.values().all(|(_, submitters)| submitters.len() == 1));
    // Answers come in no fixed order.
    assert!(orders.values().all(|o| o.len() > 1));
}

#[test]
fn generation_follows_the_seed() {
    let a = Sandbox::new(SandboxConfig::default());
    let b = Sandbox::new(SandboxConfig::default());
    let c = Sandbox::new(SandboxConfig {
        seed: 7,
        accounts: 3,
        ..SandboxConfig::default()
    });
    assert_eq!(a.accounts(), b.accounts());
    let account = &a.accounts()[0].id;
    assert_eq!(ids(&a.responses(account)), ids(&b.responses(account)));
    // Timestamps follow the clock; everything else follows the seed.
    let parsed = |s: &Sandbox| -> Vec<model::LeadForm> {
        s.forms(account)
            .iter()
            .map(|f| model::parse_form(f).unwrap())
            .collect()
    };
    assert_eq!(parsed(&a), parsed(&b));
    assert_eq!(c.accounts().len(), 4);
    assert_ne!(a.accounts()[0].id, c.accounts()[0].id);
    // The retention window hides the oldest ~9%.
    let kept: usize = a.accounts().iter().map(|x| a.responses(&x.id).len()).sum();
    let generated = a.accounts().len() * 120;
    assert!(
        kept < generated && kept * 100 > generated * 85,
        "{kept} of {generated}"
    );
}

#[tokio::test]
async fn forms_over_http_match_the_ground_truth() {
    let sandbox = start(SandboxConfig::default()).await;
    let token = access_token(&sandbox).await;
    for account in usable_accounts(&sandbox) {
        let query = restli::encode_query(&[
            ("q", json!("owner")),
            ("owner", owner(&account)),
            ("start", json!(0)),
            ("count", json!(10)),
        ]);
        let (status, body) = get_json(&sandbox, &token, &format!("/leadForms?{query}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["elements"], json!(sandbox.forms(&account)));
        assert_eq!(body["paging"]["total"], 2);
        let id = body["elements"][0]["id"].as_i64().unwrap();
        let (status, form) = get_json(&sandbox, &token, &format!("/leadForms/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(form, body["elements"][0]);
    }
    let stats = sandbox.stats();
    assert_eq!(stats.rest_calls, 4);
    assert_eq!(stats.by_status[&200], 4);
    assert_eq!(stats.authorize_calls, 1);
}

fn organic() -> SandboxConfig {
    SandboxConfig {
        organic_leads_per_type: 25,
        ..Default::default()
    }
}

fn organic_query(org_urn: &str, lead_type: &str, start: usize, count: usize) -> String {
    restli::encode_query(&[
        ("q", json!("owner")),
        ("owner", json!({ "organization": org_urn })),
        ("leadType", json!({ "leadType": lead_type })),
        ("limitedToTestLeads", json!(false)),
        ("start", json!(start)),
        ("count", json!(count)),
    ])
}

#[tokio::test]
async fn without_organic_leads_the_sponsored_world_is_unchanged() {
    let plain = start(SandboxConfig::default()).await;
    let with = start(organic()).await;
    assert!(plain.organizations().is_empty());
    for account in usable_accounts(&plain) {
        assert_eq!(
            ids(&plain.responses(&account)),
            ids(&with.responses(&account))
        );
        // (Times are relative to each sandbox's start, so ids are compared.)
        let form_ids =
            |forms: Vec<Value>| -> Vec<Value> { forms.iter().map(|f| f["id"].clone()).collect() };
        assert_eq!(
            form_ids(plain.forms(&account)),
            form_ids(with.forms(&account))
        );
    }
}

#[tokio::test]
async fn organic_forms_and_leads_of_every_type_are_served_by_organization() {
    let sandbox = start(organic()).await;
    let token = access_token(&sandbox).await;
    let orgs = sandbox.organizations();
    let org = orgs
        .iter()
        .find(|o| !o.forbidden)
        .expect("an administered org");
    assert_eq!(
        org.lead_types,
        vec!["COMPANY", "ORGANIZATION_PRODUCT", "EVENT"]
    );

    // The member's approved role on it is what organizationAcls says.
    let (status, acls) = get_json(
        &sandbox,
        &token,
        "/organizationAcls?q=roleAssignee&state=APPROVED",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let approved: Vec<&str> = acls["elements"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["organization"].as_str())
        .collect();
    assert!(approved.contains(&org.urn.as_str()));
    assert!(
        orgs.iter()
            .filter(|o| o.forbidden)
            .all(|o| !approved.contains(&o.urn.as_str()))
    );

    let forms_query = restli::encode_query(&[
        ("q", json!("owner")),
        ("owner", json!({ "organization": org.urn })),
    ]);
    let (status, forms) = get_json(&sandbox, &token, &format!("/leadForms?{forms_query}")).await;
    assert_eq!(status, StatusCode::OK, "{forms}");
    assert_eq!(
        forms["elements"].as_array().unwrap(),
        &sandbox.organic_forms(org.id)
    );
    assert!(
        forms["elements"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["owner"] == json!({ "organization": org.urn }))
    );
    for form in forms["elements"].as_array().unwrap() {
        let parsed = leadsync::linkedin::model::parse_form(form).expect("an organic form parses");
        assert!(!parsed.questions.is_empty());
    }

    for lead_type in ["COMPANY", "ORGANIZATION_PRODUCT", "EVENT"] {
        let truth = sandbox.organic_responses(&org.urn, lead_type);
        assert!(!truth.is_empty(), "{lead_type} has leads within retention");
        let mut got = Vec::new();
        let mut offset = 0;
        loop {
            let (status, body) = get_json(
                &sandbox,
                &token,
                &format!(
                    "/leadFormResponses?{}",
                    organic_query(&org.urn, lead_type, offset, 10)
                ),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["paging"]["total"], truth.len());
            let page = body["elements"].as_array().unwrap().clone();
            let short = page.len() < 10;
            got.extend(page);
            if short {
                break;
            }
            offset += 10;
        }
        assert_eq!(got, truth, "{lead_type}: paged responses equal the truth");
        for lead in &got {
            assert_eq!(lead["leadType"], lead_type);
            assert_eq!(lead["owner"], json!({ "organization": org.urn }));
            assert!(lead.get("leadMetadata").is_none() && lead.get("associatedEntity").is_none());
            let parsed = leadsync::linkedin::model::parse_response(lead).expect("parses");
            assert_eq!(parsed.lead_type, lead_type);
        }
        // One by id, too.
        let id = got[0]["id"].as_str().unwrap();
        let (status, one) = get_json(&sandbox, &token, &format!("/leadFormResponses/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(one, got[0]);
    }

    // A type the owner cannot have is an empty collection.
    let (status, body) = get_json(
        &sandbox,
        &token,
        &format!(
            "/leadFormResponses?{}",
            organic_query(&org.urn, "SPONSORED", 0, 10)
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["elements"], json!([]));
    let account = &usable_accounts(&sandbox)[0];
    let mismatched = restli::encode_query(&[
        ("q", json!("owner")),
        ("owner", owner(account)),
        ("leadType", json!({ "leadType": "EVENT" })),
        ("start", json!(0)),
        ("count", json!(10)),
    ]);
    let (status, body) = get_json(
        &sandbox,
        &token,
        &format!("/leadFormResponses?{mismatched}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["elements"], json!([]));

    // The organization the member has no role on answers 403 like LinkedIn.
    let partner = orgs.iter().find(|o| o.forbidden).unwrap();
    let (status, body) = get_json(
        &sandbox,
        &token,
        &format!(
            "/leadFormResponses?{}",
            organic_query(&partner.urn, "COMPANY", 0, 10)
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "ACCESS_DENIED");
    let partner_lead = sandbox.organic_responses(&partner.urn, "EVENT")[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = get_json(
        &sandbox,
        &token,
        &format!("/leadFormResponses/{partner_lead}"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn organic_notifications_subscribe_per_organization_and_type_and_deliver() {
    let sandbox = start(organic()).await;
    let secret = sandbox.config().client_secret.clone();
    let token = access_token(&sandbox).await;
    let org = sandbox
        .organizations()
        .into_iter()
        .find(|o| !o.forbidden)
        .unwrap();
    let (url, mut rx) = webhook_receiver(&secret).await;
    let subscribe = |body: Value| {
        http()
            .post(format!("{}/leadNotifications", sandbox.api_url()))
            .bearer_auth(&token)
            .header("LinkedIn-Version", version())
            .header("X-Restli-Protocol-Version", "2.0.0")
            .json(&body)
            .send()
    };
    let response = subscribe(json!({
        "webhook": url, "owner": { "organization": org.urn }, "leadType": "EVENT"
    }))
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    // SPONSORED is not an organization's lead type.
    let refused = subscribe(json!({
        "webhook": url, "owner": { "organization": org.urn }, "leadType": "SPONSORED"
    }))
    .await
    .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);

    // A COMPANY lead is not announced to an EVENT subscription; an EVENT lead is.
    sandbox.add_organic_leads(org.id, "COMPANY", 1);
    let event = sandbox.add_organic_leads(org.id, "EVENT", 1)[0].clone();
    let (_, _, body) = next(&mut rx).await;
    assert_eq!(body["leadGenFormResponse"], event);
    assert_eq!(body["leadAction"], "CREATED");
    assert_eq!(body["leadType"], "EVENT");
    assert_eq!(body["owner"], json!({ "organization": org.urn }));
    assert!(
        sandbox
            .organic_responses(&org.urn, "EVENT")
            .iter()
            .any(|l| l["id"] == event)
    );

    sandbox.delete_lead(&event);
    let (_, _, body) = next(&mut rx).await;
    assert_eq!(body["leadAction"], "DELETED");
    assert_eq!(body["leadType"], "EVENT");
    assert!(
        !sandbox
            .organic_responses(&org.urn, "EVENT")
            .iter()
            .any(|l| l["id"] == event)
    );
}

fn organic_range_query(
    org_urn: &str,
    lead_type: &str,
    (from, to): (i64, i64),
    start: usize,
    count: usize,
) -> String {
    restli::encode_query(&[
        ("q", json!("owner")),
        ("owner", json!({ "organization": org_urn })),
        ("leadType", json!({ "leadType": lead_type })),
        ("limitedToTestLeads", json!(false)),
        ("submittedAtTimeRange", json!({ "start": from, "end": to })),
        ("start", json!(start)),
        ("count", json!(count)),
    ])
}

/// Every page (100 a page) of an organization's responses of one lead type in the range.
async fn all_organic_leads(
    sandbox: &Sandbox,
    token: &str,
    org_urn: &str,
    lead_type: &str,
    range: (i64, i64),
) -> Vec<Value> {
    let mut elements = Vec::new();
    let mut start = 0;
    loop {
        let query = organic_range_query(org_urn, lead_type, range, start, 100);
        let (status, body) = get_json(sandbox, token, &format!("/leadFormResponses?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["paging"]["start"], start);
        assert_eq!(body["paging"]["count"], 100);
        let page = body["elements"].as_array().unwrap().clone();
        let short = page.len() < 100;
        elements.extend(page);
        if short {
            return elements;
        }
        start += 100;
    }
}

#[tokio::test]
async fn organic_paging_over_a_year_returns_exactly_the_retained_responses_per_type() {
    let per_type = 230;
    let sandbox = start(SandboxConfig {
        organic_leads_per_type: per_type,
        ..Default::default()
    })
    .await;
    let token = access_token(&sandbox).await;
    let org = sandbox
        .organizations()
        .into_iter()
        .find(|o| !o.forbidden)
        .unwrap();
    let mut readable = 0;
    let mut seen = HashSet::new();
    for lead_type in ["COMPANY", "ORGANIZATION_PRODUCT", "EVENT"] {
        let truth = sandbox.organic_responses(&org.urn, lead_type);
        // Generated over 400 days, kept 365: the oldest ~9% are gone.
        assert!(
            truth.len() < per_type && truth.len() * 100 > per_type * 85,
            "{lead_type}: {} of {per_type}",
            truth.len()
        );
        readable += truth.len();
        let now = now_ms();
        // More than one page of 100, so start/count paging is exercised.
        let elements = all_organic_leads(
            &sandbox,
            &token,
            &org.urn,
            lead_type,
            (now - 400 * DAY_MS, now),
        )
        .await;
        assert_eq!(
            ids(&elements),
            ids(&truth),
            "{lead_type}: same responses, same order"
        );
        let times: Vec<i64> = elements
            .iter()
            .map(|e| e["submittedAt"].as_i64().unwrap())
            .collect();
        assert!(times.iter().all(|t| *t >= now - 365 * DAY_MS && *t <= now));
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first");
        assert!(elements.iter().all(|e| e["leadType"] == lead_type));
        // Each type is its own collection: no response is served under two types.
        assert!(ids(&elements).into_iter().all(|id| seen.insert(id)));

        let query = organic_range_query(&org.urn, lead_type, (0, now), 0, 100);
        let (_, first) = get_json(&sandbox, &token, &format!("/leadFormResponses?{query}")).await;
        assert_eq!(first["paging"]["total"], truth.len());

        // A narrower range is honoured, both ends inclusive.
        let from = now - 100 * DAY_MS;
        let to = now - 30 * DAY_MS;
        let recent = all_organic_leads(&sandbox, &token, &org.urn, lead_type, (from, to)).await;
        let expected: Vec<Value> = truth
            .iter()
            .filter(|e| (from..=to).contains(&e["submittedAt"].as_i64().unwrap()))
            .cloned()
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(recent, expected);
    }
    assert_eq!(sandbox.readable_organic_response_count(), readable);
}

#[tokio::test]
async fn an_organization_without_ad_accounts_is_administered_for_its_organic_forms() {
    let sandbox = start(SandboxConfig {
        accounts: 0,
        organic_leads_per_type: 20,
        ..Default::default()
    })
    .await;
    let token = access_token(&sandbox).await;
    let orgs = sandbox.organizations();
    assert_eq!(orgs.len(), 2, "{orgs:?}");
    let org = orgs
        .iter()
        .find(|o| !o.forbidden)
        .expect("an administered org");
    assert!(orgs.iter().any(|o| o.forbidden));
    assert_eq!(
        org.lead_types,
        vec!["COMPANY", "ORGANIZATION_PRODUCT", "EVENT"]
    );

    let (status, acls) = get_json(
        &sandbox,
        &token,
        "/organizationAcls?q=roleAssignee&state=APPROVED",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let elements = acls["elements"].as_array().unwrap();
    assert_eq!(elements.len(), 1, "{acls}");
    assert_eq!(elements[0]["organization"], org.urn);
    assert_eq!(elements[0]["state"], "APPROVED");
    assert!(
        ["ADMINISTRATOR", "LEAD_GEN_FORMS_MANAGER"]
            .contains(&elements[0]["role"].as_str().unwrap())
    );

    let forms_query = restli::encode_query(&[
        ("q", json!("owner")),
        ("owner", json!({ "organization": org.urn })),
    ]);
    let (status, forms) = get_json(&sandbox, &token, &format!("/leadForms?{forms_query}")).await;
    assert_eq!(status, StatusCode::OK, "{forms}");
    assert_eq!(forms["elements"].as_array().unwrap().len(), 3);
    assert_eq!(forms["paging"]["total"], 3);
    assert_eq!(
        forms["elements"].as_array().unwrap(),
        &sandbox.organic_forms(org.id)
    );
    let now = now_ms();
    for lead_type in ["COMPANY", "ORGANIZATION_PRODUCT", "EVENT"] {
        let got = all_organic_leads(
            &sandbox,
            &token,
            &org.urn,
            lead_type,
            (now - 400 * DAY_MS, now),
        )
        .await;
        assert!(!got.is_empty());
        assert_eq!(got, sandbox.organic_responses(&org.urn, lead_type));
    }
    assert_eq!(sandbox.readable_response_count(), 0, "no ad account leads");
}

#[tokio::test]
async fn organic_subscriptions_are_one_per_organization_and_lead_type() {
    let sandbox = start(organic()).await;
    let secret = sandbox.config().client_secret.clone();
    let token = access_token(&sandbox).await;
    let orgs = sandbox.organizations();
    let org = orgs.iter().find(|o| !o.forbidden).unwrap();
    let partner = orgs.iter().find(|o| o.forbidden).unwrap();
    let (url, mut rx) = webhook_receiver(&secret).await;
    let subscribe = |owner: &str, lead_type: &str| {
        http()
            .post(format!("{}/leadNotifications", sandbox.api_url()))
            .bearer_auth(&token)
            .header("LinkedIn-Version", version())
            .header("X-Restli-Protocol-Version", "2.0.0")
            .json(&json!({
                "webhook": url, "owner": { "organization": owner }, "leadType": lead_type
            }))
            .send()
    };
    let mut created = HashMap::new();
    for lead_type in ["COMPANY", "ORGANIZATION_PRODUCT"] {
        let response = subscribe(&org.urn, lead_type).await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let id = response.headers()["x-restli-id"]
            .to_str()
            .unwrap()
            .to_owned();
        created.insert(lead_type, id);
    }
    assert_ne!(created["COMPANY"], created["ORGANIZATION_PRODUCT"]);
    // The same owner and type again is the same subscription.
    let again = subscribe(&org.urn, "COMPANY").await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["x-restli-id"], created["COMPANY"].as_str());
    // No role on the partner's organization: 403 like its lead calls.
    let denied = subscribe(&partner.urn, "COMPANY").await.unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    let body: Value = denied.json().await.unwrap();
    assert_eq!(body["code"], "ACCESS_DENIED");
    // An organic type for an ad account is refused like SPONSORED for an organization.
    let account = &usable_accounts(&sandbox)[0];
    let refused = http()
        .post(format!("{}/leadNotifications", sandbox.api_url()))
        .bearer_auth(&token)
        .header("LinkedIn-Version", version())
        .header("X-Restli-Protocol-Version", "2.0.0")
        .json(&json!({ "webhook": url, "owner": owner(account), "leadType": "COMPANY" }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);

    let mut subscriptions: Vec<(String, String, String)> = sandbox
        .lead_notification_subscriptions()
        .into_iter()
        .map(|s| {
            assert_eq!(s.webhook, url);
            (s.id, s.owner, s.lead_type)
        })
        .collect();
    subscriptions.sort();
    let mut expected = vec![
        (
            created["COMPANY"].clone(),
            org.urn.clone(),
            "COMPANY".to_owned(),
        ),
        (
            created["ORGANIZATION_PRODUCT"].clone(),
            org.urn.clone(),
            "ORGANIZATION_PRODUCT".to_owned(),
        ),
    ];
    expected.sort();
    assert_eq!(subscriptions, expected);

    // Leads of the partner's organization or of an unsubscribed type announce nothing; the next
    // delivery is the subscribed type's lead, deleted after, both with owner and type.
    assert_eq!(sandbox.add_organic_leads(partner.id, "COMPANY", 1).len(), 1);
    assert_eq!(sandbox.add_organic_leads(org.id, "EVENT", 1).len(), 1);
    let product = sandbox.add_organic_leads(org.id, "ORGANIZATION_PRODUCT", 1)[0].clone();
    let (_, _, body) = next(&mut rx).await;
    assert_eq!(body["leadGenFormResponse"], product);
    assert_eq!(body["leadAction"], "CREATED");
    assert_eq!(body["leadType"], "ORGANIZATION_PRODUCT");
    assert_eq!(body["owner"], json!({ "organization": org.urn }));
    let (status, lead) = get_json(&sandbox, &token, &format!("/leadFormResponses/{product}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(lead["leadType"], "ORGANIZATION_PRODUCT");
    assert_eq!(body["leadGenForm"], lead["versionedLeadGenFormUrn"]);

    sandbox.delete_lead(&product);
    let (_, _, body) = next(&mut rx).await;
    assert_eq!(body["leadGenFormResponse"], product);
    assert_eq!(body["leadAction"], "DELETED");
    assert_eq!(body["leadType"], "ORGANIZATION_PRODUCT");
    assert_eq!(body["owner"], json!({ "organization": org.urn }));
    let (status, _) = get_json(&sandbox, &token, &format!("/leadFormResponses/{product}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Unsubscribing one type leaves the other.
    let deleted = http()
        .delete(format!(
            "{}/leadNotifications/{}",
            sandbox.api_url(),
            created["COMPANY"]
        ))
        .bearer_auth(&token)
        .header("LinkedIn-Version", version())
        .header("X-Restli-Protocol-Version", "2.0.0")
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success(), "{}", deleted.status());
    let left: Vec<String> = sandbox
        .lead_notification_subscriptions()
        .into_iter()
        .map(|s| s.lead_type)
        .collect();
    assert_eq!(left, vec!["ORGANIZATION_PRODUCT"]);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), rx.recv())
            .await
            .is_err(),
        "nothing else was announced"
    );
}
