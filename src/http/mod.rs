//! HTTP routes: GraphQL (POST, GraphiQL on GET, WebSocket), health and readiness.

use std::time::Duration;

use async_graphql::{
    Data, Executor, ServerError,
    http::{ALL_WEBSOCKET_PROTOCOLS, ClientMessage, GraphiQLSource, WebSocketProtocols, WsMessage},
};
use axum::{
    Router,
    extract::{
        State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket},
    },
    http::{HeaderMap, StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use serde::de::Error as _;
use tower_http::{
    catch_panic::CatchPanicLayer,
    cors::CorsLayer,
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    trace::TraceLayer,
};

pub mod dashboard;
pub mod export;
pub mod linkedin;

use crate::{AppState, service::users};

/// The largest request body accepted: room for 1,000 LinkedIn responses in one ingest call,
/// well under what a hostile client would send (2 MiB is refused).
pub const MAX_BODY_BYTES: usize = 1536 * 1024;

pub fn router(state: AppState) -> Router {
    let cors = cors_layer(&state.config);
    let version = state.config.linkedin.linkedin_api_version;
    Router::new()
        .route(
            "/metrics",
            get(move |State(state): State<AppState>| async move {
                let mut text = crate::metrics::render();
                text.push_str(&crate::metrics::render_api_version(
                    version,
                    chrono::Utc::now().date_naive(),
                ));
                match crate::service::outbound::queue_depth(&state.db).await {
                    Ok(q) => text.push_str(&crate::metrics::render_webhook_queue(&q)),
                    Err(e) => tracing::warn!(error = ?e, "webhook queue depth unreadable"),
                }
                ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
            }),
        )
        .route("/", get(dashboard::index))
        .route("/assets/{file}", get(dashboard::asset))
        .route("/favicon.ico", get(dashboard::favicon))
        .route("/console", get(|| async { axum::response::Redirect::permanent("/console/") }))
        .route("/console/", get(dashboard::console))
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/graphql/ws", get(graphql_ws))
        .route("/export/leads.csv", get(export::leads_csv))
        .route("/export/leads.ndjson", get(export::leads_ndjson))
        .route("/export/submissions.csv", get(export::submissions_csv))
        .route("/export/submissions.ndjson", get(export::submissions_ndjson))
        .route("/export/links", axum::routing::post(export::create_link))
        .route("/oauth/linkedin/callback", get(linkedin::oauth_callback))
        .route(
            "/webhooks/linkedin",
            get(linkedin::webhook_challenge).post(linkedin::webhook),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(cors)
        .layer(CatchPanicLayer::new())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
            let id = request
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("http", method = %request.method(), path = %request.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::x_request_id(RequestIds))
        .with_state(state)
}

/// Request ids: random, so that log lines of one request can be found across instances.
#[derive(Clone, Copy)]
struct RequestIds;

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let id = hex::encode(rand::random::<[u8; 8]>());
        axum::http::HeaderValue::from_str(&id)
            .ok()
            .map(RequestId::new)
    }
}

/// Development: any origin. Production: only the configured ones.
fn cors_layer(config: &crate::Config) -> CorsLayer {
    use tower_http::cors::{AllowOrigin, Any};
    let layer = CorsLayer::new()
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]);
    if config.environment == crate::config::Environment::Development
        && config.cors_origins.is_empty()
    {
        return layer.allow_origin(Any);
    }
    let origins: Vec<axum::http::HeaderValue> = config
        .cors_origins
        .iter()
        .filter_map(|o| axum::http::HeaderValue::from_str(o.trim()).ok())
        .collect();
    layer.allow_origin(AllowOrigin::list(origins))
}

fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

pub(crate) async fn viewer_for(
    state: &AppState,
    authorization: Option<&str>,
) -> Option<users::Viewer> {
    let token = bearer(authorization?)?;
    // A lookup failure is logged as internal; the request then proceeds unauthenticated.
    state
        .viewers
        .authenticate(&state.db, token)
        .await
        .unwrap_or_default()
}

// ------------------------------------------------------------------ GraphQL over HTTP
//
// https://graphql.github.io/graphql-over-http/draft/ — POST (application/json) for every
// operation, GET for queries only (405 for mutations), one operation per request (no batching).
// Responses are negotiated from `Accept`: `application/graphql-response+json` when the client
// asks for it (then a request error, one that leaves no `data`, is a 400), otherwise
// `application/json` with 200 for every GraphQL error. A request that is not a well-formed
// GraphQL-over-HTTP request is a 400 (`BAD_REQUEST`) whatever the media type.

/// The two response media types of GraphQL over HTTP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Media {
    GraphQLResponseJson,
    Json,
}

impl Media {
    fn content_type(self) -> &'static str {
        match self {
            Media::GraphQLResponseJson => "application/graphql-response+json; charset=utf-8",
            Media::Json => "application/json; charset=utf-8",
        }
    }
}

/// The `Accept` header's media ranges: (type, subtype, q), lowercased.
fn accepted_ranges(headers: &HeaderMap) -> Vec<(String, String, f32)> {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|range| {
            let mut parts = range.split(';');
            let (kind, sub) = parts.next()?.trim().split_once('/')?;
            let q = parts
                .filter_map(|p| p.trim().split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
                .map_or(1.0, |(_, v)| v.trim().parse::<f32>().unwrap_or(0.0));
            Some((
                kind.trim().to_ascii_lowercase(),
                sub.trim().to_ascii_lowercase(),
                q,
            ))
        })
        .collect()
}

/// Content negotiation: `None` when the client accepts neither JSON media type (406). No
/// `Accept` is `application/json`; wildcards prefer `application/json`; an explicit
/// `application/graphql-response+json` wins a tie with an explicit `application/json`.
fn negotiate(headers: &HeaderMap) -> Option<Media> {
    let ranges = accepted_ranges(headers);
    if ranges.is_empty() {
        return Some(Media::Json);
    }
    // For a candidate: the q of its most specific matching range, and that specificity.
    let score = |sub: &str| -> Option<(f32, u8)> {
        ranges
            .iter()
            .filter_map(|(k, s, q)| match (k.as_str(), s.as_str()) {
                ("application", s) if s == sub => Some((2, *q)),
                ("application", "*") => Some((1, *q)),
                ("*", "*") => Some((0, *q)),
                _ => None,
            })
            .max_by_key(|(specificity, _)| *specificity)
            .map(|(specificity, q)| (q, specificity))
            .filter(|(q, _)| *q > 0.0)
    };
    match (score("graphql-response+json"), score("json")) {
        (None, None) => None,
        (Some(_), None) => Some(Media::GraphQLResponseJson),
        (None, Some(_)) => Some(Media::Json),
        (Some((gq, gs)), Some((jq, _))) => {
            let prefer_graphql = gq > jq || (gq == jq && gs == 2);
            Some(if prefer_graphql {
                Media::GraphQLResponseJson
            } else {
                Media::Json
            })
        }
    }
}

/// A browser asking for a page (or a client that states no preference): GraphiQL.
fn wants_html(headers: &HeaderMap) -> bool {
    let ranges = accepted_ranges(headers);
    ranges.is_empty()
        || ranges
            .iter()
            .any(|(k, s, q)| k == "text" && s == "html" && *q > 0.0)
}

/// An error response that is not a GraphQL execution result: a malformed request, a method or
/// media type that is not served.
fn refusal(media: Media, status: StatusCode, code: &str, message: &str) -> Response {
    let mut error = ServerError::new(message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", code);
    error.extensions = Some(extensions);
    graphql_response(
        media,
        async_graphql::Response::from_errors(vec![error]),
        Some(status),
    )
}

fn bad_request(media: Media, message: &str) -> Response {
    refusal(media, StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
}

fn not_acceptable() -> Response {
    refusal(
        Media::Json,
        StatusCode::NOT_ACCEPTABLE,
        "BAD_REQUEST",
        "accept application/graphql-response+json or application/json",
    )
}

/// A request error: no execution began (the document did not parse or validate, variables did
/// not coerce, the operation could not be determined, or a limit refused it). Such a result has
/// no `data` entry.
fn is_request_error(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

/// Serializes an execution result for the negotiated media type.
fn graphql_response(
    media: Media,
    response: async_graphql::Response,
    status: Option<StatusCode>,
) -> Response {
    let request_error = is_request_error(&response);
    let status = status.unwrap_or(if request_error && media == Media::GraphQLResponseJson {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    });
    /// A result without `data`.
    #[derive(serde::Serialize)]
    struct Errors<'a> {
        errors: &'a [ServerError],
        #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
        extensions: &'a std::collections::BTreeMap<String, async_graphql::Value>,
    }
    let body = if request_error {
        serde_json::to_string(&Errors {
            errors: &response.errors,
            extensions: &response.extensions,
        })
    } else {
        serde_json::to_string(&response)
    }
    .unwrap_or_default();
    let mut http = (
        status,
        [
            (header::CONTENT_TYPE, media.content_type()),
            (header::VARY, "Accept"),
        ],
        body,
    )
        .into_response();
    if response.is_ok()
        && let Some(value) = response.cache_control.value()
        && let Ok(value) = axum::http::HeaderValue::from_str(&value)
    {
        http.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    http.headers_mut().extend(response.http_headers);
    http
}

/// The GraphQL-over-HTTP request parameters from a JSON object: `query` a string,
/// `operationName` a string or null, `variables` and `extensions` maps or null.
fn request_from_json(value: serde_json::Value) -> Result<async_graphql::Request, String> {
    use serde_json::Value;
    let mut map = match value {
        Value::Object(map) => map,
        Value::Array(_) => {
            return Err(
                "batched requests are not supported: send one operation per request".into(),
            );
        }
        _ => return Err("the request body must be a JSON object".into()),
    };
    match map.get("query") {
        Some(Value::String(_)) => {}
        Some(_) => return Err("the `query` parameter must be a string".into()),
        None => return Err("the `query` parameter is required".into()),
    }
    if !matches!(
        map.get("operationName"),
        None | Some(Value::Null | Value::String(_))
    ) {
        return Err("the `operationName` parameter must be a string".into());
    }
    for name in ["variables", "extensions"] {
        match map.get(name) {
            None | Some(Value::Object(_)) => {}
            Some(Value::Null) => {
                map.remove(name);
            }
            Some(_) => return Err(format!("the `{name}` parameter must be a map")),
        }
    }
    serde_json::from_value(Value::Object(map)).map_err(|e| format!("invalid request: {e}"))
}

/// POST: a JSON body, any operation.
async fn graphql_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Some(media) = negotiate(&headers) else {
        return not_acceptable();
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    match content_type.as_deref() {
        Some("application/json") => {}
        None => return bad_request(media, "a POST needs `Content-Type: application/json`"),
        Some(_) => {
            return refusal(
                media,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "BAD_REQUEST",
                "the request body must be `application/json`",
            );
        }
    }
    if body.is_empty() {
        return bad_request(media, "the request body is empty");
    }
    let request = match serde_json::from_slice(&body) {
        Ok(value) => request_from_json(value),
        Err(e) => Err(format!("the request body is not JSON: {e}")),
    };
    match request {
        Ok(request) => execute(&state, &headers, media, request).await,
        Err(message) => bad_request(media, &message),
    }
}

/// GET: a query in the query string (`query`, `operationName`, and `variables` and `extensions`
/// as JSON); mutations are refused with 405. Without `query`, a browser gets GraphiQL.
async fn graphql_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    use serde_json::{Map, Value};
    let mut params = Map::new();
    for (key, value) in url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()) {
        if !matches!(
            key.as_ref(),
            "query" | "operationName" | "variables" | "extensions"
        ) {
            continue;
        }
        let value = match key.as_ref() {
            "variables" | "extensions" if value.is_empty() => continue,
            "variables" | "extensions" => match serde_json::from_str(&value) {
                Ok(value) => value,
                Err(_) => {
                    let media = negotiate(&headers).unwrap_or(Media::Json);
                    return bad_request(media, &format!("the `{key}` parameter is not JSON"));
                }
            },
            _ => Value::String(value.into_owned()),
        };
        if params.insert(key.into_owned(), value).is_some() {
            let media = negotiate(&headers).unwrap_or(Media::Json);
            return bad_request(media, "a parameter is given twice");
        }
    }
    if !params.contains_key("query") && wants_html(&headers) {
        return graphiql(State(state)).await;
    }
    let Some(media) = negotiate(&headers) else {
        return not_acceptable();
    };
    let mut request = match request_from_json(Value::Object(params)) {
        Ok(request) => request,
        Err(message) => return bad_request(media, &message),
    };
    // GET executes queries only (a document that does not parse is answered by execution).
    let name = request.operation_name.clone();
    if let Ok(document) = request.parsed_query() {
        let name = name.as_deref();
        let mut operations = document.operations.iter();
        let chosen = match name {
            Some(name) => operations.find(|(n, _)| n.is_some_and(|n| n.as_str() == name)),
            None => operations
                .next()
                .filter(|_| document.operations.iter().count() == 1),
        };
        if let Some((_, operation)) = chosen
            && operation.node.ty != async_graphql::parser::types::OperationType::Query
        {
            let mut response = refusal(
                media,
                StatusCode::METHOD_NOT_ALLOWED,
                "BAD_REQUEST",
                "GET executes queries only: send mutations with POST (subscriptions over /graphql/ws)",
            );
            response
                .headers_mut()
                .insert(header::ALLOW, axum::http::HeaderValue::from_static("POST"));
            return response;
        }
    }
    execute(&state, &headers, media, request).await
}

/// Authenticates, rate-limits, executes and measures one GraphQL request.
async fn execute(
    state: &AppState,
    headers: &HeaderMap,
    media: Media,
    mut request: async_graphql::Request,
) -> Response {
    let started = std::time::Instant::now();
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let operation = request
        .operation_name
        .clone()
        .filter(|n| n.len() <= 64 && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or_else(|| "anonymous".into());
    if let Some(viewer) = viewer_for(state, authorization).await {
        if !state.limiter.allow(viewer.user_id) {
            crate::metrics::count("leadsync_rate_limited_total", &[], 1);
            let mut error =
                ServerError::new("too many requests for this API token; slow down", None);
            let mut extensions = async_graphql::ErrorExtensionValues::default();
            extensions.set("code", "RATE_LIMITED");
            error.extensions = Some(extensions);
            let mut response = graphql_response(
                media,
                async_graphql::Response::from_errors(vec![error]),
                Some(StatusCode::TOO_MANY_REQUESTS),
            );
            response.headers_mut().insert(
                header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("60"),
            );
            return response;
        }
        request = request.data(viewer);
    }
    let response = {
        use tracing::Instrument;
        let span = tracing::info_span!("graphql", operation = %operation);
        CodedSchema(state.schema.clone())
            .execute(request)
            .instrument(span)
            .await
    };
    let outcome = if response.errors.is_empty() {
        "ok"
    } else {
        "error"
    };
    crate::metrics::count(
        "leadsync_graphql_requests_total",
        &[("operation", &operation), ("outcome", outcome)],
        1,
    );
    crate::metrics::observe(
        "leadsync_graphql_request_duration_seconds",
        &[("operation", &operation)],
        started.elapsed(),
    );
    graphql_response(media, response, None)
}

/// A fixed-window limit of GraphQL requests per API user and minute.
pub struct RateLimiter {
    per_minute: u32,
    windows: std::sync::Mutex<std::collections::HashMap<i64, (std::time::Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            windows: Default::default(),
        }
    }

    pub fn allow(&self, user_id: i64) -> bool {
        let now = std::time::Instant::now();
        let mut windows = self.windows.lock().expect("limiter lock");
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
        }
        let entry = windows.entry(user_id).or_insert((now, 0));
        if now.duration_since(entry.0) >= Duration::from_secs(60) {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= self.per_minute
    }
}

/// The schema as an executor whose every error carries `extensions.code`, for HTTP and WebSocket.
#[derive(Clone)]
pub struct CodedSchema(pub crate::AppSchema);

fn with_codes(mut response: async_graphql::Response) -> async_graphql::Response {
    for error in &mut response.errors {
        ensure_code(error);
    }
    response
}

/// A request refused before execution: NUL characters, or too many aliases or directives.
fn refuse(request: &mut async_graphql::Request) -> Option<async_graphql::Response> {
    if let Some(refused) = refuse_nul(request) {
        return Some(refused);
    }
    crate::graphql::DOCUMENT_LIMITS
        .refuse(request)
        .map(|error| with_codes(async_graphql::Response::from_errors(vec![error])))
}

impl Executor for CodedSchema {
    async fn execute(&self, mut request: async_graphql::Request) -> async_graphql::Response {
        if let Some(refused) = refuse(&mut request) {
            return refused;
        }
        with_codes(self.0.execute(request).await)
    }

    fn execute_stream(
        &self,
        mut request: async_graphql::Request,
        session_data: Option<std::sync::Arc<Data>>,
    ) -> futures::stream::BoxStream<'static, async_graphql::Response> {
        use futures::StreamExt;
        if let Some(refused) = refuse(&mut request) {
            return futures::stream::once(async move { refused }).boxed();
        }
        // On a socket, the operation runs as its viewer was last checked (request data comes
        // before the session's, which holds the viewer of `connection_init`).
        let live = session_data
            .as_ref()
            .and_then(|data| data.get(&std::any::TypeId::of::<LiveViewer>()))
            .and_then(|live| live.downcast_ref::<LiveViewer>());
        if let Some(live) = live {
            request = request.data(live.get());
        }
        Executor::execute_stream(&self.0, request, session_data)
            .map(with_codes)
            .boxed()
    }
}

/// No input string may hold U+0000: PostgreSQL stores it neither in text nor in JSON, so such
/// input would fail as an internal error there (and be stored on SQLite). One rule for every
/// argument and variable, before execution: a request error with code `BAD_USER_INPUT`.
fn refuse_nul(request: &mut async_graphql::Request) -> Option<async_graphql::Response> {
    use async_graphql::{
        Positioned, Value as ConstValue,
        parser::types::{Directive, Selection, SelectionSet},
    };
    fn in_const(value: &ConstValue) -> bool {
        match value {
            ConstValue::String(s) => s.contains('\0'),
            ConstValue::List(items) => items.iter().any(in_const),
            ConstValue::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || in_const(v)),
            _ => false,
        }
    }
    /// An argument as written (its variables are checked as variables).
    fn in_argument(value: &Positioned<impl serde::Serialize>) -> bool {
        fn in_json(value: &serde_json::Value) -> bool {
            match value {
                serde_json::Value::String(s) => s.contains('\0'),
                serde_json::Value::Array(items) => items.iter().any(in_json),
                serde_json::Value::Object(map) => {
                    map.iter().any(|(k, v)| k.contains('\0') || in_json(v))
                }
                _ => false,
            }
        }
        serde_json::to_value(&value.node).is_ok_and(|json| in_json(&json))
    }
    fn in_directives(directives: &[Positioned<Directive>]) -> bool {
        directives
            .iter()
            .any(|d| d.node.arguments.iter().any(|(_, v)| in_argument(v)))
    }
    fn in_selections(set: &SelectionSet) -> bool {
        set.items.iter().any(|item| match &item.node {
            Selection::Field(field) => {
                field.node.arguments.iter().any(|(_, v)| in_argument(v))
                    || in_directives(&field.node.directives)
                    || in_selections(&field.node.selection_set.node)
            }
            Selection::FragmentSpread(spread) => in_directives(&spread.node.directives),
            Selection::InlineFragment(inline) => {
                in_directives(&inline.node.directives)
                    || in_selections(&inline.node.selection_set.node)
            }
        })
    }
    let mut found = request.variables.values().any(in_const);
    // A document that does not parse is left to the schema, which reports it.
    if !found && let Ok(document) = request.parsed_query() {
        found = document.operations.iter().any(|(_, operation)| {
            let operation = &operation.node;
            in_directives(&operation.directives)
                || operation.variable_definitions.iter().any(|v| {
                    in_directives(&v.node.directives)
                        || v.node
                            .default_value
                            .as_ref()
                            .is_some_and(|d| in_const(&d.node))
                })
                || in_selections(&operation.selection_set.node)
        }) || document.fragments.values().any(|fragment| {
            in_directives(&fragment.node.directives)
                || in_selections(&fragment.node.selection_set.node)
        });
    }
    if !found {
        return None;
    }
    let mut error = ServerError::new("text must not contain the NUL character (U+0000)", None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", "BAD_USER_INPUT");
    error.extensions = Some(extensions);
    Some(async_graphql::Response::from_errors(vec![error]))
}

/// Every error carries `extensions.code`: errors from async-graphql itself (parse, validation,
/// argument coercion) get one here.
fn ensure_code(error: &mut ServerError) {
    let has_code = error
        .extensions
        .as_ref()
        .is_some_and(|ext| ext.get("code").is_some());
    if has_code {
        return;
    }
    let code = if error.path.is_empty() {
        "GRAPHQL_VALIDATION_FAILED"
    } else {
        "BAD_USER_INPUT"
    };
    let mut extensions = error.extensions.take().unwrap_or_default();
    extensions.set("code", code);
    error.extensions = Some(extensions);
}

async fn graphiql(State(state): State<AppState>) -> Response {
    if state.config.environment == crate::config::Environment::Production
        && !state.config.introspection
    {
        return (
            StatusCode::NOT_FOUND,
            "GraphiQL is off in production (LEADSYNC_INTROSPECTION=true turns it on)",
        )
            .into_response();
    }
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .title("leadsync GraphiQL")
            .finish(),
    )
    .into_response()
}

// ------------------------------------------------------------------ GraphQL over WebSocket
//
// graphql-transport-ws (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md), and the
// legacy subscriptions-transport-ws ("graphql-ws") that async-graphql also speaks. Every message
// of graphql-transport-ws is checked here before async-graphql sees it, so that the socket closes
// with the protocol's codes: 4400 a message that is not one of the protocol's, 4401 a subscribe
// before the connection is acknowledged (or an init without a token), 4403 a token that is not
// valid, 4408 no `connection_init` in time (LEADSYNC_WS_INIT_TIMEOUT_MS), 4409 a subscribe whose
// id is in use, 4429 a second `connection_init`.
//
// An open socket keeps its token checked: every `LEADSYNC_WS_AUTH_CHECK_MS` (and at each
// `subscribe`) the token is authenticated again through the `ViewerCache` (no statement while its
// entry is fresh; the API's revocations, disablings and role changes clear it). A token that no
// longer authenticates (revoked, or its user disabled) closes the socket with 4401 "Unauthorized:
// ..."; roles changed to ones without lead access (no LEADGEN_ADMINISTRATOR, LEADGEN_SALESPERSON
// or SYSTEM_ADMINISTRATOR) close it with 4403 "Forbidden: ...". Other role changes apply to the
// operations started after the check (`LiveViewer`). graphql-ws clients do not retry a 4401.

/// The server pings (WebSocket ping frames, answered by every client's WebSocket layer) this
/// often; a client from which nothing arrived for `IDLE_LIMIT` is gone and its socket closed.
const PING_EVERY: Duration = Duration::from_secs(15);
const IDLE_LIMIT: Duration = Duration::from_secs(45);
const WS_READ_BUFFER_BYTES: usize = 4 * 1024;

async fn graphql_ws(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    use std::str::FromStr;
    // The first protocol the client offers that is served (as axum selects it below).
    let protocol = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .find_map(|p| WebSocketProtocols::from_str(p.trim()).ok());
    let Some(protocol) = protocol else {
        return (
            StatusCode::BAD_REQUEST,
            "offer the graphql-transport-ws WebSocket subprotocol",
        )
            .into_response();
    };
    // Messages are small and a live UI holds its socket for hours: a 4 KiB read buffer (it grows
    // for a larger message) instead of tungstenite's 128 KiB keeps an idle subscription cheap.
    upgrade
        .read_buffer_size(WS_READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_message_size(MAX_BODY_BYTES)
        .max_frame_size(MAX_BODY_BYTES)
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve_socket(state, protocol, socket))
}

fn close_frame(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// The bytes of a text or binary frame.
fn frame_data(message: &Message) -> Option<&[u8]> {
    match message {
        Message::Text(text) => Some(text.as_str().as_bytes()),
        Message::Binary(bytes) => Some(bytes),
        _ => None,
    }
}

/// A graphql-transport-ws message, checked against the protocol's shapes: `(type, message)`, or
/// why it is not one.
fn protocol_message(data: &[u8]) -> Result<(String, serde_json::Value), String> {
    use serde_json::Value;
    let message: Value =
        serde_json::from_slice(data).map_err(|_| "Invalid message received".to_owned())?;
    let Some(kind) = message
        .get("type")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return Err("Invalid message received: no `type`".into());
    };
    let map_or_null = |v: Option<&Value>| matches!(v, None | Some(Value::Null | Value::Object(_)));
    let id_ok = || {
        message
            .get("id")
            .and_then(Value::as_str)
            .is_some_and(|id| !id.is_empty())
    };
    match kind.as_str() {
        "connection_init" | "ping" | "pong" => {
            if !map_or_null(message.get("payload")) {
                return Err(format!(
                    "Invalid message received: `{kind}` payload must be a map"
                ));
            }
        }
        "subscribe" => {
            if !id_ok() {
                return Err("Invalid message received: `subscribe` needs a non-empty `id`".into());
            }
            let payload = message.get("payload");
            let valid = payload.and_then(Value::as_object).is_some_and(|p| {
                p.get("query").is_some_and(Value::is_string)
                    && matches!(
                        p.get("operationName"),
                        None | Some(Value::Null | Value::String(_))
                    )
                    && map_or_null(p.get("variables"))
                    && map_or_null(p.get("extensions"))
            });
            if !valid {
                return Err(
                    "Invalid message received: `subscribe` payload must hold a `query` string"
                        .into(),
                );
            }
        }
        "complete" => {
            if !id_ok() {
                return Err("Invalid message received: `complete` needs a non-empty `id`".into());
            }
        }
        other => return Err(format!("Invalid message received: unknown type `{other}`")),
    }
    Ok((kind, message))
}

/// What the reading and the writing half of one socket share.
#[derive(Default)]
struct Session {
    /// Ids of the operations running (graphql-transport-ws), from subscribe to complete.
    active: std::collections::HashSet<String>,
    /// Operations whose next `complete` from async-graphql is not sent on (the client completed
    /// them, or they ended with an `error` message); `true` frees the id then.
    swallow: std::collections::HashMap<String, bool>,
    /// The close frame to send when the reading half stops the connection.
    close: Option<(u16, String)>,
    /// When the client was last heard from.
    last_seen: Option<std::time::Instant>,
}

type Shared = std::sync::Arc<std::sync::Mutex<Session>>;

fn lock(session: &Shared) -> std::sync::MutexGuard<'_, Session> {
    session.lock().unwrap_or_else(|e| e.into_inner())
}

/// The viewer of an open socket as last checked: its operations run as this viewer (it stands in
/// for the one authenticated at `connection_init`, so that a role change applies to them).
#[derive(Clone)]
pub(crate) struct LiveViewer(std::sync::Arc<std::sync::Mutex<users::Viewer>>);

impl LiveViewer {
    fn new(viewer: users::Viewer) -> Self {
        Self(std::sync::Arc::new(std::sync::Mutex::new(viewer)))
    }

    fn get(&self) -> users::Viewer {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set(&self, viewer: users::Viewer) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = viewer;
    }
}

/// Why a socket's token no longer serves it: the close code and reason.
type Revoked = (u16, &'static str);

const TOKEN_REVOKED: Revoked = (
    4401,
    "Unauthorized: the API token was revoked or its user disabled",
);
const ROLES_REVOKED: Revoked = (
    4403,
    "Forbidden: the user's roles no longer allow subscriptions",
);

/// Authenticates a socket's token again (through the cache) and updates its viewer; `Err` with
/// the close frame when the socket must close. A lookup that fails (the database is down) keeps
/// the socket as it is: the next check decides.
async fn recheck(state: &AppState, token: &str, live: &LiveViewer) -> Result<(), Revoked> {
    match state.viewers.authenticate(&state.db, token).await {
        Ok(Some(viewer)) => {
            let before = live.get();
            let lead_access = crate::graphql::guard::LEAD_USERS;
            if viewer.roles != before.roles && !viewer.has_any(lead_access) {
                return Err(ROLES_REVOKED);
            }
            live.set(viewer);
            Ok(())
        }
        Ok(None) => Err(TOKEN_REVOKED),
        Err(_) => Ok(()),
    }
}

/// Authenticates `connection_init` before handing the socket to async-graphql, then checks every
/// further message (graphql-transport-ws) before async-graphql executes it.
async fn serve_socket(state: AppState, protocol: WebSocketProtocols, socket: WebSocket) {
    use futures::{SinkExt, StreamExt};
    let strict = protocol == WebSocketProtocols::GraphQLWS;
    let (mut sink, mut stream) = socket.split();
    let deadline =
        tokio::time::Instant::now() + Duration::from_millis(state.config.ws_init_timeout_ms);
    // Until connection_init: pings are answered, anything else refused.
    let init = loop {
        let message = match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) => {
                let _ = sink
                    .send(close_frame(4408, "Connection initialisation timeout"))
                    .await;
                return;
            }
            Ok(Some(Ok(message))) => message,
            Ok(_) => return,
        };
        // A close frame: the next read answers it and ends the stream.
        let Some(data) = frame_data(&message) else {
            continue;
        };
        let parsed = if strict {
            protocol_message(data)
        } else {
            serde_json::from_slice::<serde_json::Value>(data)
                .map_err(|_| "Invalid message received".to_owned())
                .map(|m| {
                    let kind = m["type"].as_str().unwrap_or_default().to_owned();
                    (kind, m)
                })
        };
        let (kind, value) = match parsed {
            Ok(parsed) => parsed,
            Err(reason) => {
                let _ = sink.send(close_frame(4400, &reason)).await;
                return;
            }
        };
        match kind.as_str() {
            "connection_init" => break value,
            "ping" if strict => {
                let pong = serde_json::json!({"type": "pong"}).to_string();
                if sink.send(Message::Text(pong.into())).await.is_err() {
                    return;
                }
            }
            "pong" | "complete" if strict => {}
            _ => {
                let _ = sink.send(close_frame(4401, "Unauthorized")).await;
                return;
            }
        }
    };
    let payload = init.get("payload").cloned().unwrap_or_default();
    let authorization = payload
        .get("authorization")
        .or_else(|| payload.get("Authorization"))
        .and_then(|v| v.as_str());
    let Some(authorization) = authorization else {
        let _ = sink.send(close_frame(4401, "Unauthorized")).await;
        return;
    };
    let Some(viewer) = viewer_for(&state, Some(authorization)).await else {
        let _ = sink.send(close_frame(4403, "Forbidden")).await;
        return;
    };
    // viewer_for found a bearer token in it.
    let token: std::sync::Arc<str> = bearer(authorization).unwrap_or_default().into();
    let live = LiveViewer::new(viewer.clone());

    let session = Shared::default();
    lock(&session).last_seen = Some(std::time::Instant::now());
    // The init message again, so that async-graphql acknowledges it; then the client's messages,
    // checked: a violation stores its close code and ends the input.
    let first = futures::stream::once(async move {
        serde_json::from_value::<ClientMessage>(init).map_err(serde_json::Error::custom)
    });
    let reader = session.clone();
    let (reader_state, reader_token, reader_live) = (state.clone(), token.clone(), live.clone());
    let rest = futures::stream::unfold(stream, move |mut stream| {
        let session = reader.clone();
        let (state, token, live) = (
            reader_state.clone(),
            reader_token.clone(),
            reader_live.clone(),
        );
        async move {
            loop {
                let message = match stream.next().await {
                    Some(Ok(message)) => message,
                    _ => return None,
                };
                lock(&session).last_seen = Some(std::time::Instant::now());
                // Pings, pongs and a close frame (the next read answers it and ends the stream).
                let Some(data) = frame_data(&message) else {
                    continue;
                };
                if !strict {
                    return Some((ClientMessage::from_bytes(data), stream));
                }
                let refuse = |code: u16, reason: String| {
                    lock(&session).close = Some((code, reason));
                    None
                };
                let (kind, value) = match protocol_message(data) {
                    Ok(parsed) => parsed,
                    Err(reason) => return refuse(4400, reason),
                };
                let id = value["id"].as_str().unwrap_or_default().to_owned();
                match kind.as_str() {
                    "connection_init" => {
                        return refuse(4429, "Too many initialisation requests".into());
                    }
                    "subscribe" => {
                        // A new operation runs as the token's user is now.
                        if let Err((code, reason)) = recheck(&state, &token, &live).await {
                            return refuse(code, reason.into());
                        }
                        let fresh = lock(&session).active.insert(id.clone());
                        if !fresh {
                            return refuse(4409, format!("Subscriber for {id} already exists"));
                        }
                    }
                    "complete" => {
                        // async-graphql answers a complete with one of its own: not sent on.
                        let mut session = lock(&session);
                        if session.active.remove(&id) {
                            session.swallow.insert(id, false);
                        }
                    }
                    _ => {}
                }
                return match serde_json::from_value::<ClientMessage>(value) {
                    Ok(message) => Some((Ok(message), stream)),
                    Err(e) => refuse(4400, format!("Invalid message received: {e}")),
                };
            }
        }
    });
    let protocol_stream = async_graphql::http::WebSocket::from_message_stream(
        CodedSchema(state.schema.clone()),
        first.chain(rest),
        protocol,
    )
    .on_connection_init({
        let live = live.clone();
        move |_| async move {
            let mut data = Data::default();
            data.insert(viewer);
            data.insert(live);
            Ok(data)
        }
    });
    futures::pin_mut!(protocol_stream);
    let mut pings = tokio::time::interval(PING_EVERY);
    pings.tick().await;
    let check_every = Duration::from_millis(state.config.ws_auth_check_ms.max(1));
    let mut checks =
        tokio::time::interval_at(tokio::time::Instant::now() + check_every, check_every);
    checks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let outgoing = tokio::select! {
            message = protocol_stream.next() => match message {
                Some(WsMessage::Text(text)) => {
                    let text = if strict { outgoing_message(&session, text) } else { Some(text) };
                    let Some(text) = text else {
                        continue;
                    };
                    Message::Text(text.into())
                }
                Some(WsMessage::Close(code, reason)) => {
                    let _ = sink.send(close_frame(code, &reason)).await;
                    return;
                }
                None => {
                    let close = lock(&session).close.take();
                    if let Some((code, reason)) = close {
                        let _ = sink.send(close_frame(code, &reason)).await;
                    }
                    return;
                }
            },
            _ = checks.tick() => {
                if let Err((code, reason)) = recheck(&state, &token, &live).await {
                    tracing::info!(user_id = live.get().user_id, code, "closed a WebSocket: {reason}");
                    let _ = sink.send(close_frame(code, reason)).await;
                    return;
                }
                continue;
            }
            _ = pings.tick() => {
                let idle = lock(&session).last_seen.is_some_and(|t| t.elapsed() > IDLE_LIMIT);
                if idle {
                    let _ = sink.send(close_frame(3008, "timeout")).await;
                    return;
                }
                Message::Ping(Default::default())
            }
        };
        if sink.send(outgoing).await.is_err() {
            return;
        }
    }
}

/// What is sent for a message of async-graphql (graphql-transport-ws), if anything: a `complete`
/// frees its id (or is swallowed: the client completed the operation itself, or it ended with an
/// `error`); a `next` that carries a request error (the document did not parse or validate) is
/// sent as the protocol's `error` message, which ends the operation.
fn outgoing_message(session: &Shared, text: String) -> Option<String> {
    let complete = text.starts_with(r#"{"type":"complete""#);
    if !complete && !text.starts_with(r#"{"type":"next""#) {
        return Some(text);
    }
    let Ok(mut message) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Some(text);
    };
    let id = message["id"].as_str().unwrap_or_default().to_owned();
    let mut session = lock(session);
    if complete {
        match session.swallow.remove(&id) {
            Some(free) => {
                if free {
                    session.active.remove(&id);
                }
                return None;
            }
            None => {
                session.active.remove(&id);
                return Some(text);
            }
        }
    }
    let payload = &mut message["payload"];
    let request_error = payload.get("data").is_none_or(serde_json::Value::is_null)
        && payload["errors"].as_array().is_some_and(|errors| {
            !errors.is_empty() && errors.iter().all(|e| e.get("path").is_none())
        });
    if !request_error {
        return Some(text);
    }
    session.swallow.insert(id.clone(), true);
    let errors = payload["errors"].take();
    Some(serde_json::json!({"id": id, "type": "error", "payload": errors}).to_string())
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if crate::db::ping(&state.db).await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, value.parse().unwrap());
        headers
    }

    #[test]
    fn content_negotiation_follows_graphql_over_http() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(Media::Json));
        assert_eq!(negotiate(&accept("*/*")), Some(Media::Json));
        assert_eq!(negotiate(&accept("application/*")), Some(Media::Json));
        assert_eq!(negotiate(&accept("application/json")), Some(Media::Json));
        assert_eq!(
            negotiate(&accept("application/graphql-response+json")),
            Some(Media::GraphQLResponseJson)
        );
        assert_eq!(
            negotiate(&accept(
                "application/graphql-response+json, application/json;q=0.9"
            )),
            Some(Media::GraphQLResponseJson)
        );
        assert_eq!(
            negotiate(&accept(
                "application/graphql-response+json;q=0.5, application/json"
            )),
            Some(Media::Json)
        );
        assert_eq!(
            negotiate(&accept("application/graphql-response+json, */*;q=0.1")),
            Some(Media::GraphQLResponseJson)
        );
        assert_eq!(negotiate(&accept("text/html")), None);
        assert_eq!(negotiate(&accept("application/json;q=0")), None);
        assert!(wants_html(&accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        assert!(wants_html(&HeaderMap::new()));
        assert!(!wants_html(&accept("application/json")));
    }

    #[test]
    fn request_parameters_have_the_spec_types() {
        use serde_json::json;
        let ok = request_from_json(json!({"query": "{ a }", "variables": {"x": 1}})).unwrap();
        assert_eq!(ok.query, "{ a }");
        assert!(
            request_from_json(json!({"query": "{ a }", "operationName": null, "variables": null, "extensions": null}))
                .is_ok()
        );
        for bad in [
            json!({}),
            json!({"qeury": "{ a }"}),
            json!({"query": 1}),
            json!({"query": "{ a }", "operationName": 0}),
            json!({"query": "{ a }", "variables": "{}"}),
            json!({"query": "{ a }", "extensions": []}),
            json!([{"query": "{ a }"}]),
            json!("{ a }"),
        ] {
            assert!(request_from_json(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn websocket_messages_are_checked_against_the_protocol() {
        let kind = |text: &str| protocol_message(text.as_bytes()).map(|(kind, _)| kind);
        assert_eq!(
            kind(r#"{"type":"connection_init"}"#).unwrap(),
            "connection_init"
        );
        assert_eq!(
            kind(r#"{"type":"ping","payload":{"a":1}}"#).unwrap(),
            "ping"
        );
        assert_eq!(
            kind(r#"{"type":"subscribe","id":"1","payload":{"query":"{ a }","variables":null}}"#)
                .unwrap(),
            "subscribe"
        );
        // What passes the check, async-graphql reads.
        let nulls = r#"{"type":"subscribe","id":"1","payload":{"query":"{ a }","operationName":null,"variables":null,"extensions":null}}"#;
        let (_, value) = protocol_message(nulls.as_bytes()).unwrap();
        assert!(serde_json::from_value::<ClientMessage>(value).is_ok());
        for bad in [
            "not json",
            r#"{"id":"1"}"#,
            r#"{"type":"start","id":"1","payload":{"query":"{ a }"}}"#,
            r#"{"type":"connection_init","payload":"token"}"#,
            r#"{"type":"subscribe","payload":{"query":"{ a }"}}"#,
            r#"{"type":"subscribe","id":"","payload":{"query":"{ a }"}}"#,
            r#"{"type":"subscribe","id":"1","payload":{"variables":{}}}"#,
            r#"{"type":"subscribe","id":"1","payload":{"query":"{ a }","variables":[]}}"#,
            r#"{"type":"complete"}"#,
        ] {
            assert!(kind(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nul_characters_are_found_in_arguments_and_variables() {
        use async_graphql::Variables;
        let refused = |query: &str, variables: serde_json::Value| {
            let mut request =
                async_graphql::Request::new(query).variables(Variables::from_json(variables));
            refuse_nul(&mut request).map(|r| r.errors[0].message.clone())
        };
        let no = serde_json::json!({});
        assert_eq!(
            refused(r#"{ a(x: "fine", y: ["\\u0000 is text"]) }"#, no.clone()),
            None
        );
        assert_eq!(refused("{ a", no.clone()), None, "left to the schema");
        for query in [
            r#"{ a(x: "a\u0000b") }"#,
            r#"{ a { b(x: {k: ["\u0000"]}) } }"#,
            r#"query($v: String = "\u0000") { a(x: $v) }"#,
            r#"{ ...F } fragment F on Query { a @include(if: true) @skip(if: false) b(x: "\u0000") }"#,
            r#"{ ... on Query { a @deprecated(reason: "\u0000") } }"#,
        ] {
            assert!(refused(query, no.clone()).is_some(), "{query}");
        }
        assert!(refused("{ a }", serde_json::json!({"v": {"k": ["a\0"]}})).is_some());
        assert!(refused("{ a }", serde_json::json!({"v": {"k\0": 1}})).is_some());
    }

    #[test]
    fn request_errors_become_error_messages_and_completes_are_not_echoed() {
        let session = Shared::default();
        lock(&session).active.insert("1".into());
        let next = r#"{"type":"next","id":"1","payload":{"data":null,"errors":[{"message":"bad","extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]}}"#;
        let sent: serde_json::Value =
            serde_json::from_str(&outgoing_message(&session, next.into()).unwrap()).unwrap();
        assert_eq!(sent["type"], "error");
        assert_eq!(sent["payload"][0]["message"], "bad");
        // Its complete is not sent, and frees the id.
        let complete = r#"{"type":"complete","id":"1"}"#;
        assert_eq!(outgoing_message(&session, complete.into()), None);
        assert!(lock(&session).active.is_empty());
        // A result with data, or a field error, stays a `next`; a complete is sent on.
        let field_error = r#"{"type":"next","id":"2","payload":{"data":null,"errors":[{"message":"no","path":["a"]}]}}"#;
        assert_eq!(
            outgoing_message(&session, field_error.into()).as_deref(),
            Some(field_error)
        );
        let complete = r#"{"type":"complete","id":"2"}"#;
        assert_eq!(
            outgoing_message(&session, complete.into()).as_deref(),
            Some(complete)
        );
    }
}
