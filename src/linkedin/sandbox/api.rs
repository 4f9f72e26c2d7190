//! The Marketing API under `/rest`: header and token checks, the `X-HTTP-Method-Override` form,
//! fault injection, Rest.li query decoding, and the resources Lead Sync uses.
//!
//! One handler takes every `/rest` request and dispatches on method and path itself, because the
//! method override turns a `POST` into a `GET` before routing can mean anything.

use axum::{
    Json,
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

use super::{
    FaultKind, Sandbox, State as SandboxState,
    data::{Account, Campaign, ORGANIC_TYPES, World, organic_key},
    now_ms,
    oauth::TokenCheck,
    webhooks::Subscription,
};
use crate::linkedin::{model::urn_id, restli};

/// Lead responses come at most 100 a page; the other offset collections at most 1000.
const MAX_LEAD_COUNT: usize = 100;
const MAX_COUNT: usize = 1000;
/// LinkedIn's default page size for offset paging.
const DEFAULT_COUNT: usize = 10;
const DEFAULT_PAGE_SIZE: usize = 100;

/// A LinkedIn error: its status and JSON body.
struct ApiError {
    status: StatusCode,
    body: Value,
}

type ApiResult = Result<Response, ApiError>;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

impl ApiError {
    fn new(status: StatusCode, body: Value) -> Self {
        Self { status, body }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            json!({ "status": 400, "message": message.into() }),
        )
    }

    /// `errors.json#missing_parameter`.
    fn missing(name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            json!({ "message": format!("Parameter '{name}' is required"), "status": 400 }),
        )
    }

    fn not_found(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            json!({ "status": 404, "serviceErrorCode": 0, "code": "RESOURCE_NOT_FOUND", "message": message.into() }),
        )
    }

    /// `errors.json#access_denied`, naming the resource method and version like LinkedIn.
    fn access_denied(resource: &str, version: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            json!({
                "status": 403,
                "serviceErrorCode": 100,
                "code": "ACCESS_DENIED",
                "message": format!("Not enough permissions to access: {resource}.{version}"),
            }),
        )
    }

    fn unauthorized(service_code: u32, code: Option<&str>, message: &str) -> Self {
        let mut body =
            json!({ "status": 401, "serviceErrorCode": service_code, "message": message });
        if let Some(code) = code {
            body["code"] = json!(code);
        }
        Self::new(StatusCode::UNAUTHORIZED, body)
    }
}

/// Who is calling, with which API version.
struct Caller {
    /// `urn:li:person:...` of the member the token was granted by.
    member: String,
    version: String,
}

/// The decoded Rest.li query parameters.
struct Params(Vec<(String, Value)>);

impl Params {
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// A leaf parameter's text, if present.
    fn text(&self, name: &str) -> Result<Option<&str>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(ApiError::bad_request(format!(
                "Parameter '{name}' must be a single value"
            ))),
        }
    }

    fn required(&self, name: &str) -> Result<&Value, ApiError> {
        self.get(name).ok_or_else(|| ApiError::missing(name))
    }

    /// The `q` finder, which must be `expected`.
    fn finder(&self, expected: &str) -> Result<(), ApiError> {
        match self.text("q")? {
            None => Err(ApiError::missing("q")),
            Some(q) if q == expected => Ok(()),
            Some(q) => Err(ApiError::bad_request(format!("Invalid finder: {q}"))),
        }
    }

    fn number(&self, name: &str, default: usize) -> Result<usize, ApiError> {
        match self.text(name)? {
            None => Ok(default),
            Some(text) => text.parse().map_err(|_| {
                ApiError::bad_request(format!(
                    "Parameter '{name}' must be a non-negative integer, not {text:?}"
                ))
            }),
        }
    }

    /// `start` and `count` (capped at `max`, as LinkedIn caps it).
    fn offset_page(&self, max: usize) -> Result<(usize, usize), ApiError> {
        Ok((
            self.number("start", 0)?,
            self.number("count", DEFAULT_COUNT)?.min(max),
        ))
    }

    /// `owner=(sponsoredAccount:<URN>)` or, for organic leads, `owner=(organization:<URN>)`.
    fn owner(&self) -> Result<Owner, ApiError> {
        let owner = self.required("owner")?;
        if let Some(urn) = owner.get("organization").and_then(Value::as_str) {
            let id = urn_id(urn, "organization").map_err(ApiError::bad_request)?;
            return id
                .parse()
                .map(Owner::Organization)
                .map_err(|_| ApiError::bad_request(format!("{urn} is not an organization URN")));
        }
        self.owner_account().map(Owner::Account).map_err(|_| {
            ApiError::bad_request(
                "Parameter 'owner' must be (sponsoredAccount:<URN>) or (organization:<URN>)",
            )
        })
    }

    /// The account id inside `owner=(sponsoredAccount:urn:li:sponsoredAccount:{id})`.
    fn owner_account(&self) -> Result<String, ApiError> {
        let owner = self.required("owner")?;
        let urn = owner
            .get("sponsoredAccount")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ApiError::bad_request("Parameter 'owner' must be (sponsoredAccount:<URN>)")
            })?;
        urn_id(urn, "sponsoredAccount").map_err(ApiError::bad_request)
    }

    /// `values` of a `(status:(values:List(...)))` search criterion, if given.
    fn search_values(&self, field: &str) -> Result<Option<Vec<String>>, ApiError> {
        let Some(search) = self.get("search") else {
            return Ok(None);
        };
        if !search.is_object() {
            return Err(ApiError::bad_request(
                "Parameter 'search' must be an object",
            ));
        }
        let Some(criterion) = search.get(field) else {
            return Ok(None);
        };
        let values = criterion
            .get("values")
            .and_then(Value::as_array)
            .and_then(|items| {
                items
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
            })
            .ok_or_else(|| {
                ApiError::bad_request(format!("search.{field} must be (values:List(...))"))
            })?;
        Ok(Some(values))
    }
}

fn parse_bool(value: Option<&str>, name: &str) -> Result<Option<bool>, ApiError> {
    match value {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(ApiError::bad_request(format!(
            "Parameter '{name}' must be true or false, not {other:?}"
        ))),
    }
}

/// `{"paging": {start, count, links: [], total?}, "elements": [...]}`.
fn collection(elements: Vec<Value>, start: usize, count: usize, total: Option<usize>) -> Response {
    let mut paging = json!({ "start": start, "count": count, "links": [] });
    if let Some(total) = total {
        paging["total"] = json!(total);
    }
    Json(json!({ "paging": paging, "elements": elements })).into_response()
}

fn page<T: Clone>(items: &[T], start: usize, count: usize) -> Vec<T> {
    items.iter().skip(start).take(count).cloned().collect()
}

// ------------------------------------------------------------------ the entry point

/// Every `/rest` request: counted by status, stamped with the Rest.li protocol version.
pub(super) async fn rest(
    State(sandbox): State<Sandbox>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut response = handle(&sandbox, method, &uri, &headers, body)
        .await
        .unwrap_or_else(IntoResponse::into_response);
    response.headers_mut().insert(
        "x-restli-protocol-version",
        HeaderValue::from_static("2.0.0"),
    );
    let mut state = sandbox.lock();
    state.stats.rest_calls += 1;
    *state
        .stats
        .by_status
        .entry(response.status().as_u16())
        .or_default() += 1;
    response
}

async fn handle(
    sandbox: &Sandbox,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> ApiResult {
    let caller = check_headers(sandbox, headers)?;
    let (method, query, body) = method_override(method, uri, headers, body)?;

    let fault = sandbox.roll_fault();
    match fault {
        Some(FaultKind::Throttle) => {
            // LinkedIn's throttle: JSON body, and no Retry-After.
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                json!({ "status": 429, "message": "Resource level throttle limit for calls to this resource is reached." }),
            ));
        }
        Some(FaultKind::ServerError) => {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({ "status": 500, "message": "Internal Server Error" }),
            ));
        }
        Some(FaultKind::Unavailable) => {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "status": 503, "message": "Service Unavailable" }),
            ));
        }
        Some(FaultKind::Slow(delay)) => tokio::time::sleep(delay).await,
        Some(FaultKind::Truncated) | None => {}
    }

    let params = restli::decode_query(&query).map(Params).map_err(|e| {
        ApiError::bad_request(format!("Invalid query parameters passed to request: {e}"))
    })?;
    let path = uri.path();
    let path = path.strip_prefix("/rest").unwrap_or(path);
    let segments = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_decode_str(s)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| ApiError::bad_request("The path is not UTF-8"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();

    let response = dispatch(sandbox, &caller, &method, &segments, &params, &body)?;
    if fault == Some(FaultKind::Truncated) {
        return Ok(truncate(response).await);
    }
    Ok(response)
}

fn dispatch(
    sandbox: &Sandbox,
    caller: &Caller,
    method: &Method,
    segments: &[&str],
    params: &Params,
    body: &Bytes,
) -> ApiResult {
    let now = now_ms();
    let config = &sandbox.inner.config;
    let mut state = sandbox.lock();
    let state = &mut *state;
    match (method.as_str(), segments) {
        ("GET", ["adAccounts"]) => ad_accounts(&state.world, params),
        ("GET", ["adAccounts", id, "adCampaigns"]) => campaigns(&state.world, id, params),
        ("GET", ["organizationAcls"]) => organization_acls(&state.world, caller, params),
        ("GET", ["organizations", id]) => organization(&state.world, id),
        ("GET", ["leadForms"]) => lead_forms(&state.world, caller, params, config.omit_total),
        ("GET", ["leadForms", id]) => lead_form(&state.world, caller, id),
        ("GET", ["leadFormResponses"]) => {
            lead_responses(&state.world, caller, params, config.omit_total, now)
        }
        ("GET", ["leadFormResponses", id]) => lead_response(&state.world, caller, id, now),
        ("POST", ["leadNotifications"]) => subscribe(state, caller, body),
        ("GET", ["leadNotifications", id]) => state
            .subscriptions
            .iter()
            .find(|s| s.id == *id)
            .map(|s| Json(s.json()).into_response())
            .ok_or_else(|| ApiError::not_found(format!("No lead notification {id}"))),
        ("DELETE", ["leadNotifications", id]) => {
            let before = state.subscriptions.len();
            state.subscriptions.retain(|s| s.id != *id);
            if state.subscriptions.len() == before {
                Err(ApiError::not_found(format!("No lead notification {id}")))
            } else {
                Ok(StatusCode::NO_CONTENT.into_response())
            }
        }
        (
            _,
            ["adAccounts"]
            | ["adAccounts", _, "adCampaigns"]
            | ["organizationAcls"]
            | ["organizations", _]
            | ["leadForms"]
            | ["leadForms", _]
            | ["leadFormResponses"]
            | ["leadFormResponses", _]
            | ["leadNotifications"]
            | ["leadNotifications", _],
        ) => Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({ "status": 405, "message": format!("Method {method} is not supported here") }),
        )),
        _ => Err(ApiError::not_found("No virtual resource found")),
    }
}

/// Authorization, then `X-Restli-Protocol-Version`, then `LinkedIn-Version`.
fn check_headers(sandbox: &Sandbox, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let token = header(header::AUTHORIZATION.as_str())
        .and_then(|v| {
            v.split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        })
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Err(ApiError::unauthorized(
            401,
            None,
            "Empty oauth2_access_token",
        ));
    };
    let check = sandbox.lock().oauth.check(token, now_ms());
    let member = match check {
        TokenCheck::Valid { member } => member,
        TokenCheck::Unknown => {
            return Err(ApiError::unauthorized(
                65600,
                Some("INVALID_ACCESS_TOKEN"),
                "Invalid access token",
            ));
        }
        TokenCheck::Expired => {
            return Err(ApiError::unauthorized(
                65602,
                Some("EXPIRED_ACCESS_TOKEN"),
                "The token used in the request has expired",
            ));
        }
        TokenCheck::Revoked => {
            return Err(ApiError::unauthorized(
                65601,
                Some("REVOKED_ACCESS_TOKEN"),
                "The token used in the request has been revoked by the user",
            ));
        }
    };
    if header("x-restli-protocol-version") != Some("2.0.0") {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            json!({
                "status": 400,
                "code": "ILLEGAL_ARGUMENT",
                "message": "This API needs Rest.li protocol 2.0.0: send the header X-Restli-Protocol-Version: 2.0.0",
            }),
        ));
    }
    let Some(version) = header("linkedin-version") else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            json!({
                "status": 400,
                "code": "VERSION_MISSING",
                "message": "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
            }),
        ));
    };
    if !sandbox
        .inner
        .config
        .versions
        .accepts(version, chrono::Utc::now().date_naive())
    {
        return Err(ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            json!({
                "status": 426,
                "code": "NONEXISTENT_VERSION",
                "message": format!("Requested version {version} is not active"),
            }),
        ));
    }
    Ok(Caller {
        member,
        version: version.to_owned(),
    })
}

/// `POST` + `X-HTTP-Method-Override: GET` with the query as a form body is the `GET`. Returns
/// the effective method, the full query string and the remaining body.
fn method_override(
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<(Method, String, Bytes), ApiError> {
    let url_query = uri.query().unwrap_or_default().to_owned();
    let Some(target) = headers.get("x-http-method-override") else {
        return Ok((method, url_query, body));
    };
    let target = target.to_str().unwrap_or_default().trim();
    if method != Method::POST || !target.eq_ignore_ascii_case("GET") {
        return Err(ApiError::bad_request(
            "X-HTTP-Method-Override is only supported as GET on a POST",
        ));
    }
    let form_encoded = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !form_encoded {
        return Err(ApiError::bad_request(
            "A method-override request needs Content-Type: application/x-www-form-urlencoded",
        ));
    }
    let form = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("The form body is not UTF-8"))?
        .trim();
    let query = [url_query.as_str(), form]
        .into_iter()
        .filter(|q| !q.is_empty())
        .collect::<Vec<_>>()
        .join("&");
    Ok((Method::GET, query, Bytes::new()))
}

/// The same status and headers with the first half of the body (no longer valid JSON).
async fn truncate(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(half))
}

// ------------------------------------------------------------------ resources

fn account_json(world: &World, account: &Account) -> Value {
    let org = &world.orgs[account.org];
    json!({
        "name": account.name,
        "id": account.id.parse::<i64>().unwrap_or_default(),
        "test": false,
        "status": "ACTIVE",
        "type": "BUSINESS",
        "currency": account.currency,
        "reference": org.urn(),
        "referenceInfo": {
            "organization": {
                "name": {
                    "localized": { "en_US": org.name },
                    "preferredLocale": { "country": "US", "language": "en" },
                },
                "vanityName": org.vanity,
                "localizedName": org.name,
                "id": org.id,
            }
        },
    })
}

/// `GET /adAccounts?q=search&search=(status:(values:List(ACTIVE)),test:false)`.
fn ad_accounts(world: &World, params: &Params) -> ApiResult {
    params.finder("search")?;
    let statuses = params.search_values("status")?;
    let test = match params.get("search").and_then(|s| s.get("test")) {
        None => None,
        Some(v) => parse_bool(v.as_str(), "search.test")?,
    };
    // Every generated account is an active, non-test account.
    let matches = statuses.is_none_or(|s| s.iter().any(|v| v == "ACTIVE")) && test != Some(true);
    let elements: Vec<Value> = if matches {
        world
            .accounts
            .iter()
            .map(|a| account_json(world, a))
            .collect()
    } else {
        Vec::new()
    };
    let (start, count) = params.offset_page(MAX_COUNT)?;
    Ok(collection(
        page(&elements, start, count),
        start,
        count,
        Some(elements.len()),
    ))
}

/// `GET /organizationAcls?q=roleAssignee&state=APPROVED`: approved roles on the member's
/// organizations (those of the usable accounts, and any owning only organic forms); only a pending
/// request on the forbidden account's organization.
fn organization_acls(world: &World, caller: &Caller, params: &Params) -> ApiResult {
    params.finder("roleAssignee")?;
    let wanted_state = params.text("state")?;
    let wanted_role = params.text("role")?;
    let mut elements = Vec::new();
    for (index, org) in world.orgs.iter().enumerate() {
        let (role, state) = if world.org_forbidden(index) {
            ("LEAD_GEN_FORMS_MANAGER", "REQUESTED")
        } else if index == 0 {
            ("ADMINISTRATOR", "APPROVED")
        } else {
            ("LEAD_GEN_FORMS_MANAGER", "APPROVED")
        };
        if wanted_state.is_some_and(|s| s != state) || wanted_role.is_some_and(|r| r != role) {
            continue;
        }
        let stamp = |time: i64| json!({ "actor": caller.member, "impersonator": "urn:li:servicePrincipal:organization", "time": time });
        elements.push(json!({
            "roleAssignee": caller.member,
            "state": state,
            "lastModified": stamp(1_683_063_892_716),
            "role": role,
            "created": stamp(1_655_913_677_098),
            "organization": org.urn(),
        }));
    }
    let (start, count) = params.offset_page(MAX_COUNT)?;
    // Like LinkedIn's example: no total on this collection.
    Ok(collection(
        page(&elements, start, count),
        start,
        count,
        None,
    ))
}

/// `GET /organizations/{id}`: the organization's id, localized name and vanity name.
fn organization(world: &World, id: &str) -> ApiResult {
    let org = id
        .parse::<i64>()
        .ok()
        .and_then(|id| world.orgs.iter().find(|o| o.id == id))
        .ok_or_else(|| ApiError::not_found(format!("Organization {id} does not exist")))?;
    Ok(Json(json!({
        "id": org.id,
        "localizedName": org.name,
        "vanityName": org.vanity,
    }))
    .into_response())
}

fn campaign_json(account: &Account, campaign: &Campaign) -> Value {
    let mut schedule = json!({ "start": campaign.start });
    if let Some(end) = campaign.end {
        schedule["end"] = json!(end);
    }
    json!({
        "id": campaign.id,
        "name": campaign.name,
        "status": campaign.status,
        "type": campaign.kind,
        "account": account.urn(),
        "campaignGroup": format!("urn:li:sponsoredCampaignGroup:{}", campaign.group),
        "objectiveType": "LEAD_GENERATION",
        "costType": "CPM",
        "locale": { "country": "US", "language": "en" },
        "runSchedule": schedule,
    })
}

/// Page tokens are opaque to clients; here they carry the next offset.
fn page_token(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("campaigns:{offset}"))
}

fn page_token_offset(token: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("campaigns:")?
        .parse()
        .ok()
}

/// `GET /adAccounts/{id}/adCampaigns?q=search&search=(status:(values:List(...)))&pageSize&pageToken`.
fn campaigns(world: &World, account_id: &str, params: &Params) -> ApiResult {
    let account = world
        .account(account_id)
        .ok_or_else(|| ApiError::not_found(format!("Ad account {account_id} does not exist")))?;
    params.finder("search")?;
    let statuses = params.search_values("status")?;
    let size = params.number("pageSize", DEFAULT_PAGE_SIZE)?;
    if !(1..=MAX_COUNT).contains(&size) {
        return Err(ApiError::bad_request(format!(
            "pageSize must be between 1 and {MAX_COUNT}"
        )));
    }
    let offset = match params.text("pageToken")? {
        None => 0,
        Some(token) => page_token_offset(token)
            .ok_or_else(|| ApiError::bad_request(format!("Invalid pageToken {token:?}")))?,
    };
    let matching: Vec<Value> = account
        .campaigns
        .iter()
        .filter(|c| {
            statuses
                .as_ref()
                .is_none_or(|s| s.iter().any(|v| v == c.status))
        })
        .map(|c| campaign_json(account, c))
        .collect();
    let elements = page(&matching, offset, size);
    let next = offset + size;
    let metadata = if next < matching.len() {
        json!({ "nextPageToken": page_token(next) })
    } else {
        json!({})
    };
    Ok(Json(json!({ "elements": elements, "metadata": metadata })).into_response())
}

/// Whose leads a call is about.
enum Owner {
    Account(String),
    Organization(i64),
}

/// The organization of an organic lead call (by index): 404 when unknown, 403 when the member
/// has no approved role on it.
fn lead_org(
    world: &World,
    org_id: i64,
    resource: &str,
    caller: &Caller,
) -> Result<usize, ApiError> {
    let org = world
        .org_by_id(org_id)
        .ok_or_else(|| ApiError::not_found(format!("Organization {org_id} does not exist")))?;
    if world.org_forbidden(org) {
        return Err(ApiError::access_denied(resource, &caller.version));
    }
    Ok(org)
}

/// The owner account of a lead call: 404 when unknown, 403 when the member has no role on its
/// organization.
fn lead_account<'w>(
    world: &'w World,
    account_id: &str,
    resource: &str,
    caller: &Caller,
) -> Result<&'w Account, ApiError> {
    let account = world
        .account(account_id)
        .ok_or_else(|| ApiError::not_found(format!("Ad account {account_id} does not exist")))?;
    if account.forbidden {
        return Err(ApiError::access_denied(resource, &caller.version));
    }
    Ok(account)
}

/// `GET /leadForms?q=owner&owner=(sponsoredAccount:...)|(organization:...)&start&count`.
fn lead_forms(world: &World, caller: &Caller, params: &Params, omit_total: bool) -> ApiResult {
    params.finder("owner")?;
    let resource = "leadForms.FINDER-owner";
    let forms: Vec<Value> = match params.owner()? {
        Owner::Account(id) => lead_account(world, &id, resource, caller)?
            .forms
            .iter()
            .map(|f| f.json.clone())
            .collect(),
        Owner::Organization(id) => world.orgs[lead_org(world, id, resource, caller)?]
            .organic_forms
            .iter()
            .map(|(_, f)| f.json.clone())
            .collect(),
    };
    let (start, count) = params.offset_page(MAX_COUNT)?;
    let total = (!omit_total).then_some(forms.len());
    Ok(collection(page(&forms, start, count), start, count, total))
}

/// `GET /leadForms/{id}`.
fn lead_form(world: &World, caller: &Caller, id: &str) -> ApiResult {
    let not_found = || ApiError::not_found(format!("Lead form {id} does not exist"));
    let form_id: i64 = id.parse().map_err(|_| not_found())?;
    if let Some((org, form)) = world.organic_form(form_id) {
        lead_org(world, world.orgs[org].id, "leadForms.GET", caller)?;
        return Ok(Json(form.json.clone()).into_response());
    }
    let (account, form) = world.form(form_id).ok_or_else(not_found)?;
    lead_account(world, &account.id, "leadForms.GET", caller)?;
    Ok(Json(form.json.clone()).into_response())
}

/// `GET /leadFormResponses?q=owner&owner=(sponsoredAccount:...|organization:...)&leadType=(leadType:TYPE)
/// &limitedToTestLeads=false&submittedAtTimeRange=(start:MS,end:MS)&start&count`: responses
/// within the range (both ends inclusive) and the 365-day retention, oldest first.
fn lead_responses(
    world: &World,
    caller: &Caller,
    params: &Params,
    omit_total: bool,
    now: i64,
) -> ApiResult {
    params.finder("owner")?;
    let owner = params.owner()?;
    let lead_type = params
        .required("leadType")?
        .get("leadType")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("Parameter 'leadType' must be (leadType:<TYPE>)"))?;
    let only_test =
        parse_bool(params.text("limitedToTestLeads")?, "limitedToTestLeads")?.unwrap_or(false);
    let (from, to) = match params.get("submittedAtTimeRange") {
        None => (i64::MIN, i64::MAX),
        Some(range) => {
            let bound = |name: &str, default: i64| match range.get(name) {
                None => Ok(default),
                Some(v) => v
                    .as_str()
                    .and_then(|s| s.parse::<i64>().ok())
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "submittedAtTimeRange.{name} must be epoch milliseconds"
                        ))
                    }),
            };
            if !range.is_object() {
                return Err(ApiError::bad_request(
                    "Parameter 'submittedAtTimeRange' must be (start:<ms>,end:<ms>)",
                ));
            }
            (bound("start", i64::MIN)?, bound("end", i64::MAX)?)
        }
    };
    let form_filter = params.text("versionedLeadGenFormUrn")?;
    let resource = "leadFormResponses.FINDER-owner";
    // A lead type the owner cannot have (an organic type for an ad account, SPONSORED for an
    // organization) is an empty collection, not an error: LinkedIn's finder filters by type.
    let key = match owner {
        Owner::Account(id) => {
            let account = lead_account(world, &id, resource, caller)?;
            (lead_type == "SPONSORED").then(|| account.id.clone())
        }
        Owner::Organization(id) => {
            let org = lead_org(world, id, resource, caller)?;
            ORGANIC_TYPES
                .contains(&lead_type)
                .then(|| organic_key(&world.orgs[org].urn(), lead_type))
        }
    };
    let (start, count) = params.offset_page(MAX_LEAD_COUNT)?;
    let matching = world
        .responses(key.as_deref().unwrap_or(""), now)
        .filter(|l| !only_test || l.test_lead)
        .filter(|l| (from..=to).contains(&l.submitted_at))
        .filter(|l| form_filter.is_none_or(|f| f == l.form_urn));
    // One pass: the page's elements are cloned, the rest only counted (when the total is sent).
    let mut total = 0;
    let mut elements = Vec::with_capacity(count.min(MAX_LEAD_COUNT));
    for (i, lead) in matching.enumerate() {
        if (start..start.saturating_add(count)).contains(&i) {
            elements.push(lead.json.clone());
        } else if omit_total && i >= start {
            break;
        }
        total += 1;
    }
    Ok(collection(
        elements,
        start,
        count,
        (!omit_total).then_some(total),
    ))
}

/// `GET /leadFormResponses/{id}`: 404 once deleted or past retention.
fn lead_response(world: &World, caller: &Caller, id: &str, now: i64) -> ApiResult {
    let lead = world
        .lead(id, now)
        .ok_or_else(|| ApiError::not_found(format!("Lead form response {id} does not exist")))?;
    if lead.lead_type == "SPONSORED" {
        lead_account(world, &lead.account_id, "leadFormResponses.GET", caller)?;
    } else {
        let org_id = urn_id(&lead.owner, "organization")
            .ok()
            .and_then(|id| id.parse().ok())
            .unwrap_or_default();
        lead_org(world, org_id, "leadFormResponses.GET", caller)?;
    }
    Ok(Json(lead.json.clone()).into_response())
}

/// `POST /leadNotifications` `{"webhook", "owner": {"sponsoredAccount"|"organization"}, "leadType"}` → 201 with
/// `x-restli-id`. Subscribing the same URL to the same owner and lead type again returns the
/// existing id. Unlike the finder (an empty page), a lead type the owner cannot have is a 400 here:
/// a subscription that could never fire is a caller's mistake worth surfacing.
fn subscribe(state: &mut SandboxState, caller: &Caller, body: &Bytes) -> ApiResult {
    let request: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("The request body is not JSON: {e}")))?;
    let webhook = request
        .get("webhook")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::missing("webhook"))?;
    match url::Url::parse(webhook) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => {}
        _ => {
            return Err(ApiError::bad_request(format!(
                "webhook {webhook:?} is not an http(s) URL"
            )));
        }
    }
    let lead_type = request
        .get("leadType")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::missing("leadType"))?;
    let owner_field = request.get("owner");
    let resource = "leadNotifications.CREATE";
    let owner = if let Some(urn) = owner_field
        .and_then(|o| o.get("organization"))
        .and_then(Value::as_str)
    {
        if !ORGANIC_TYPES.contains(&lead_type) {
            return Err(ApiError::bad_request(format!(
                "leadType {lead_type:?} is not supported for organizations"
            )));
        }
        let id = urn_id(urn, "organization")
            .ok()
            .and_then(|id| id.parse::<i64>().ok())
            .ok_or_else(|| ApiError::bad_request(format!("{urn} is not an organization URN")))?;
        let org = lead_org(&state.world, id, resource, caller)?;
        state.world.orgs[org].urn()
    } else {
        let urn = owner_field
            .and_then(|o| o.get("sponsoredAccount"))
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::missing("owner"))?;
        let account_id = urn_id(urn, "sponsoredAccount").map_err(ApiError::bad_request)?;
        if lead_type != "SPONSORED" {
            return Err(ApiError::bad_request(format!(
                "leadType {lead_type:?} is not supported for ad accounts"
            )));
        }
        lead_account(&state.world, &account_id, resource, caller)?.urn()
    };
    let existing = state
        .subscriptions
        .iter()
        .find(|s| s.webhook == webhook && s.owner == owner && s.lead_type == lead_type)
        .map(|s| s.id.clone());
    let id = match existing {
        Some(id) => id,
        None => {
            state.next_subscription += 1;
            let id = state.next_subscription.to_string();
            state.subscriptions.push(Subscription {
                id: id.clone(),
                webhook: webhook.to_owned(),
                owner,
                lead_type: lead_type.to_owned(),
            });
            id
        }
    };
    let mut response = StatusCode::CREATED.into_response();
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-restli-id", value);
    }
    Ok(response)
}
