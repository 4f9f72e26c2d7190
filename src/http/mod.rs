//! HTTP routes: GraphQL (POST, GraphiQL on GET, WebSocket), health and readiness.

use std::time::Duration;

use async_graphql::{
    Data, Executor, ServerError,
    http::{ALL_WEBSOCKET_PROTOCOLS, GraphiQLSource},
};
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket};
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
use tower_http::{
    catch_panic::CatchPanicLayer,
    cors::CorsLayer,
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    trace::TraceLayer,
};

pub mod dashboard;
pub mod linkedin;

use crate::{AppState, service::users};

/// The largest request body accepted: room for 1,000 LinkedIn responses in one ingest call,
/// well under what a hostile client would send (2 MiB is refused).
pub const MAX_BODY_BYTES: usize = 1536 * 1024;

pub fn router(state: AppState) -> Router {
    let cors = cors_layer(&state.config);
    Router::new()
        .route(
            "/metrics",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                    crate::metrics::render(),
                )
            }),
        )
        .route("/", get(dashboard::index))
        .route("/assets/{file}", get(dashboard::asset))
        .route("/graphql", get(graphiql).post(graphql))
        .route("/graphql/ws", get(graphql_ws))
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

async fn viewer_for(state: &AppState, authorization: Option<&str>) -> Option<users::Viewer> {
    let token = bearer(authorization?)?;
    // A lookup failure is logged as internal; the request then proceeds unauthenticated.
    users::authenticate(&state.db, token)
        .await
        .unwrap_or_default()
}

async fn graphql(
    State(state): State<AppState>,
    headers: HeaderMap,
    req: GraphQLRequest,
) -> Response {
    let started = std::time::Instant::now();
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let mut request = req.into_inner();
    let operation = request
        .operation_name
        .clone()
        .filter(|n| n.len() <= 64 && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or_else(|| "anonymous".into());
    if let Some(viewer) = viewer_for(&state, authorization).await {
        if !state.limiter.allow(viewer.user_id) {
            crate::metrics::count("leadsync_rate_limited_total", &[], 1);
            let mut error =
                ServerError::new("too many requests for this API token; slow down", None);
            let mut extensions = async_graphql::ErrorExtensionValues::default();
            extensions.set("code", "RATE_LIMITED");
            error.extensions = Some(extensions);
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, "60")],
                GraphQLResponse::from(async_graphql::Response::from_errors(vec![error])),
            )
                .into_response();
        }
        request = request.data(viewer);
    }
    let response = CodedSchema(state.schema.clone()).execute(request).await;
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
    GraphQLResponse::from(response).into_response()
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

impl Executor for CodedSchema {
    async fn execute(&self, request: async_graphql::Request) -> async_graphql::Response {
        with_codes(self.0.execute(request).await)
    }

    fn execute_stream(
        &self,
        request: async_graphql::Request,
        session_data: Option<std::sync::Arc<Data>>,
    ) -> futures::stream::BoxStream<'static, async_graphql::Response> {
        use futures::StreamExt;
        Executor::execute_stream(&self.0, request, session_data)
            .map(with_codes)
            .boxed()
    }
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

/// How long a client has to send `connection_init` (graphql-transport-ws closes with 4408).
const INIT_TIMEOUT: Duration = Duration::from_secs(10);

async fn graphql_ws(
    State(state): State<AppState>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve_socket(state, protocol, socket))
}

/// Authenticates `connection_init` before handing the socket to async-graphql, so that refusals
/// close with the protocol's codes: 4408 no init in time, 4401 anything before init (or no
/// token), 4403 a token that is not valid.
async fn serve_socket(state: AppState, protocol: GraphQLProtocol, socket: WebSocket) {
    use futures::{SinkExt, StreamExt};
    let (mut sink, mut stream) = socket.split();
    let close = |code: u16, reason: &'static str| {
        Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }))
    };
    let first = match tokio::time::timeout(INIT_TIMEOUT, stream.next()).await {
        Err(_) => {
            let _ = sink
                .send(close(4408, "Connection initialisation timeout"))
                .await;
            return;
        }
        Ok(Some(Ok(Message::Text(text)))) => text,
        Ok(_) => return,
    };
    let message: serde_json::Value = serde_json::from_str(first.as_str()).unwrap_or_default();
    if message.get("type").and_then(|t| t.as_str()) != Some("connection_init") {
        let _ = sink.send(close(4401, "Unauthorized")).await;
        return;
    }
    let payload = message.get("payload").cloned().unwrap_or_default();
    let authorization = payload
        .get("authorization")
        .or_else(|| payload.get("Authorization"))
        .and_then(|v| v.as_str());
    let Some(authorization) = authorization else {
        let _ = sink.send(close(4401, "Unauthorized")).await;
        return;
    };
    let Some(viewer) = viewer_for(&state, Some(authorization)).await else {
        let _ = sink.send(close(4403, "Forbidden")).await;
        return;
    };
    // Replay the init message so that async-graphql acknowledges it.
    let replayed = futures::stream::once(async move { Ok(Message::Text(first)) }).chain(stream);
    GraphQLWebSocket::new_with_pair(sink, replayed, CodedSchema(state.schema.clone()), protocol)
        .keepalive_timeout(Duration::from_secs(30))
        .on_connection_init(move |_| async move {
            let mut data = Data::default();
            data.insert(viewer);
            Ok(data)
        })
        .serve()
        .await;
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if crate::db::ping(&state.db).await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    }
}
