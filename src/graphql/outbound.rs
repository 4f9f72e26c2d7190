//! Outbound webhooks: endpoints administrators register, their delivery logs, replays.
//! The rules live in `service::outbound`.

use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{webhook_delivery, webhook_endpoint};
use serde_json::json;

use crate::{
    domain,
    graphql::{
        guard::{LEADGEN_ADMIN, RoleGuard},
        mutation::{audited, audited_write},
        state,
        types::{LeadType, PageInfo, parse_id, wants_total},
    },
    service::outbound::{self, EndpointInput, EndpointPatch, Endpoints},
};

fn endpoints<'a>(ctx: &Context<'a>) -> Endpoints<'a> {
    endpoints_in(ctx, &state(ctx).db)
}

/// Endpoint administration inside `db`, an audited write's transaction.
fn endpoints_in<'a, C: crate::service::Db>(ctx: &Context<'a>, db: &'a C) -> Endpoints<'a, C> {
    let s = state(ctx);
    Endpoints {
        db,
        cipher: s.connector.cipher(),
        config: &s.config.webhooks,
    }
}

fn id(value: i64) -> ID {
    ID(value.to_string())
}

/// What an endpoint is told about; sent as `type` (`lead.created`, ...).
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum WebhookEventType {
    /// `lead.created`: a lead was created (by a submission or through the API).
    LeadCreated,
    /// `lead.updated`: a lead's fields changed.
    LeadUpdated,
    /// `lead.deleted`: a lead was deleted (`data` carries its id only).
    LeadDeleted,
    /// `lead.erased`: a person was erased (`data` carries the lead id only, no personal data).
    LeadErased,
    /// `submission.received`: a LinkedIn form submission reached a lead.
    SubmissionReceived,
}

impl WebhookEventType {
    const ALL: [WebhookEventType; 5] = [
        Self::LeadCreated,
        Self::LeadUpdated,
        Self::LeadDeleted,
        Self::LeadErased,
        Self::SubmissionReceived,
    ];
    fn wire(self) -> &'static str {
        outbound::EVENT_TYPES[Self::ALL.iter().position(|t| *t == self).unwrap_or(0)]
    }
    fn of_wire(text: &str) -> Option<Self> {
        outbound::EVENT_TYPES
            .iter()
            .position(|t| *t == text)
            .map(|i| Self::ALL[i])
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum WebhookDeliveryStatus {
    /// Waiting for its (next) attempt, or for an earlier delivery of the same lead.
    Pending,
    /// Being sent by an instance.
    Delivering,
    /// The endpoint answered 2xx.
    Succeeded,
    /// Given up: the retry window passed, or the endpoint answered 410 Gone.
    Failed,
    /// Not sent: the lead was gone when it was due (no old data is sent).
    Skipped,
}

impl WebhookDeliveryStatus {
    const ALL: [WebhookDeliveryStatus; 5] = [
        Self::Pending,
        Self::Delivering,
        Self::Succeeded,
        Self::Failed,
        Self::Skipped,
    ];
    fn stored(self) -> &'static str {
        outbound::STATUSES[Self::ALL.iter().position(|t| *t == self).unwrap_or(0)]
    }
    fn of_stored(text: &str) -> Self {
        outbound::STATUSES
            .iter()
            .position(|t| *t == text)
            .map_or(Self::Pending, |i| Self::ALL[i])
    }
}

/// An outbound webhook endpoint: where leadsync posts signed lead events.
pub struct WebhookEndpoint(pub webhook_endpoint::Model);

#[Object]
impl WebhookEndpoint {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn url(&self) -> &str {
        &self.0.url
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn event_types(&self) -> Vec<WebhookEventType> {
        outbound::types_of(&self.0)
            .into_iter()
            .filter_map(WebhookEventType::of_wire)
            .collect()
    }
    /// Only events of this campaign (a lead's source campaign, a submission's campaign).
    async fn campaign_id(&self) -> Option<ID> {
        self.0.campaign_id.map(id)
    }
    /// Only events of this form.
    async fn form_id(&self) -> Option<ID> {
        self.0.form_id.map(id)
    }
    /// Only submissions of this lead type (lead events carry no lead type: they do not match).
    async fn lead_type(&self) -> Option<LeadType> {
        self.0
            .lead_type
            .as_deref()
            .and_then(|t| t.parse::<domain::LeadType>().ok())
            .map(Into::into)
    }
    /// Disabled endpoints get no new deliveries; their queued ones wait for `enable`.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
    /// Why it was disabled (by an administrator, after failing continuously, or 410 Gone).
    async fn disabled_reason(&self) -> Option<&str> {
        self.0.disabled_reason.as_deref()
    }
    /// Since when its deliveries have failed without a success in between.
    async fn failing_since(&self) -> Option<DateTime<Utc>> {
        self.0.failing_since
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The delivery log, newest first.
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<WebhookDeliveryStatus>,
    ) -> Result<WebhookDeliveryConnection> {
        let _ = wants_total(ctx);
        let (page, total) = endpoints(ctx)
            .deliveries(
                self.0.id,
                status.map(WebhookDeliveryStatus::stored),
                first,
                after.as_deref(),
            )
            .await?;
        let edges: Vec<WebhookDeliveryEdge> = page
            .items
            .into_iter()
            .map(|(cursor, m)| WebhookDeliveryEdge {
                cursor,
                node: WebhookDelivery(m),
            })
            .collect();
        Ok(WebhookDeliveryConnection {
            total_count: total,
            page_info: PageInfo {
                has_next_page: page.has_next_page,
                has_previous_page: page.has_previous_page,
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
        })
    }
}

/// One event to one endpoint, with its latest attempt.
pub struct WebhookDelivery(pub webhook_delivery::Model);

#[Object]
impl WebhookDelivery {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// The `webhook-id` header: `evt_<event position>`, the same on every attempt and replay.
    async fn webhook_id(&self) -> String {
        outbound::webhook_id(self.0.event_id)
    }
    /// The lead event's position in the event log.
    async fn event_id(&self) -> ID {
        id(self.0.event_id)
    }
    async fn event_type(&self) -> Option<WebhookEventType> {
        WebhookEventType::of_wire(&self.0.event_type)
    }
    async fn lead_id(&self) -> ID {
        id(self.0.lead_id)
    }
    async fn status(&self) -> WebhookDeliveryStatus {
        WebhookDeliveryStatus::of_stored(&self.0.status)
    }
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// When the next attempt is due (PENDING).
    async fn next_attempt_at(&self) -> DateTime<Utc> {
        self.0.next_attempt_at
    }
    async fn last_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_attempt_at
    }
    /// The HTTP status of the latest answer (null: no answer).
    async fn last_status_code(&self) -> Option<i32> {
        self.0.last_status_code
    }
    /// What went wrong on the latest attempt (a timeout, a refused connection, the status).
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    async fn last_latency_ms(&self) -> Option<i64> {
        self.0.last_latency_ms
    }
    /// The first 512 bytes of the latest answer's body.
    async fn response_excerpt(&self) -> Option<&str> {
        self.0.response_excerpt.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
}

#[derive(SimpleObject)]
pub struct WebhookDeliveryEdge {
    pub cursor: String,
    pub node: WebhookDelivery,
}

#[derive(SimpleObject)]
pub struct WebhookDeliveryConnection {
    /// Deliveries matching the filter, counted up to 1,000 (1,001: more).
    pub total_count: i64,
    pub page_info: PageInfo,
    pub edges: Vec<WebhookDeliveryEdge>,
}

#[derive(SimpleObject)]
pub struct CreateWebhookEndpointPayload {
    pub endpoint: WebhookEndpoint,
    /// The signing secret, `whsec_<base64>`: shown this once.
    pub secret: String,
}

/// How an endpoint answered `sendTestWebhook`.
#[derive(SimpleObject)]
pub struct WebhookTestResult {
    /// Whether the endpoint answered 2xx.
    pub succeeded: bool,
    /// The HTTP status (null: no answer).
    pub status_code: Option<i32>,
    pub latency_ms: i64,
    /// What went wrong (a timeout, a refused connection, the status).
    pub error: Option<String>,
    /// The first 512 bytes of the answer's body.
    pub response_excerpt: Option<String>,
    /// The `webhook-id` it was sent with (`msg_test_...`).
    pub webhook_id: String,
}

#[derive(SimpleObject)]
pub struct RotateWebhookSecretPayload {
    pub endpoint: WebhookEndpoint,
    /// The new signing secret, shown this once; deliveries from now on are signed with it.
    pub secret: String,
}

#[derive(InputObject)]
pub struct CreateWebhookEndpointInput {
    /// https (http only with LEADSYNC_WEBHOOKS_ALLOW_HTTP); not a loopback, private,
    /// link-local or metadata address (unless LEADSYNC_WEBHOOKS_ALLOW_PRIVATE).
    pub url: String,
    pub description: Option<String>,
    /// At least one.
    pub event_types: Vec<WebhookEventType>,
    pub campaign_id: Option<ID>,
    pub form_id: Option<ID>,
    pub lead_type: Option<LeadType>,
}

#[derive(InputObject)]
pub struct UpdateWebhookEndpointInput {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<WebhookEventType>>,
    /// null clears the filter.
    pub campaign_id: MaybeUndefined<ID>,
    /// null clears the filter.
    pub form_id: MaybeUndefined<ID>,
    /// null clears the filter.
    pub lead_type: MaybeUndefined<LeadType>,
}

fn wire(types: &[WebhookEventType]) -> Vec<String> {
    types.iter().map(|t| t.wire().to_owned()).collect()
}

fn lead_type_text(t: LeadType) -> String {
    domain::LeadType::from(t).as_str().to_owned()
}

fn maybe<T, U>(
    value: MaybeUndefined<T>,
    f: impl FnOnce(T) -> Result<U>,
) -> Result<Option<Option<U>>> {
    Ok(match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(f(v)?)),
    })
}

#[derive(Default)]
pub struct OutboundQuery;

#[Object]
impl OutboundQuery {
    /// Every outbound webhook endpoint, oldest first.
    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn webhook_endpoints(&self, ctx: &Context<'_>) -> Result<Vec<WebhookEndpoint>> {
        Ok(endpoints(ctx)
            .list()
            .await?
            .into_iter()
            .map(WebhookEndpoint)
            .collect())
    }

    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn webhook_endpoint(&self, ctx: &Context<'_>, id: ID) -> Result<WebhookEndpoint> {
        let id = parse_id(&id, "webhook endpoint")?;
        Ok(WebhookEndpoint(endpoints(ctx).get(id).await?))
    }
}

#[derive(Default)]
pub struct OutboundMutation;

#[Object]
impl OutboundMutation {
    /// Registers an endpoint; it receives the events logged from now on. The payload carries
    /// its signing secret, shown this once.
    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookEndpointInput,
    ) -> Result<CreateWebhookEndpointPayload> {
        let types = wire(&input.event_types);
        let write = audited_write(ctx).await?;
        let (endpoint, secret) = endpoints_in(ctx, write.db())
            .create(EndpointInput {
                url: input.url,
                description: input.description,
                event_types: types.clone(),
                campaign_id: input
                    .campaign_id
                    .map(|v| parse_id(&v, "campaign"))
                    .transpose()?,
                form_id: input.form_id.map(|v| parse_id(&v, "form")).transpose()?,
                lead_type: input.lead_type.map(lead_type_text),
            })
            .await?;
        write
            .commit(
                "createWebhookEndpoint",
                "WebhookEndpoint",
                Some(endpoint.id),
                json!({ "eventTypes": types, "secret": "issued" }),
            )
            .await?;
        Ok(CreateWebhookEndpointPayload {
            endpoint: WebhookEndpoint(endpoint),
            secret,
        })
    }

    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateWebhookEndpointInput,
    ) -> Result<WebhookEndpoint> {
        let id = parse_id(&id, "webhook endpoint")?;
        let patch = EndpointPatch {
            url: input.url,
            description: input.description,
            event_types: input.event_types.as_deref().map(wire),
            campaign_id: maybe(input.campaign_id, |v| Ok(parse_id(&v, "campaign")?))?,
            form_id: maybe(input.form_id, |v| Ok(parse_id(&v, "form")?))?,
            lead_type: maybe(input.lead_type, |v| Ok(lead_type_text(v)))?,
        };
        let write = audited_write(ctx).await?;
        let (endpoint, changed) = endpoints_in(ctx, write.db()).update(id, patch).await?;
        write
            .commit(
                "updateWebhookEndpoint",
                "WebhookEndpoint",
                Some(id),
                json!({ "changed": changed }),
            )
            .await?;
        Ok(WebhookEndpoint(endpoint))
    }

    /// Deletes an endpoint with its delivery log and queue.
    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn delete_webhook_endpoint(&self, ctx: &Context<'_>, id: ID) -> Result<WebhookEndpoint> {
        let id = parse_id(&id, "webhook endpoint")?;
        let write = audited_write(ctx).await?;
        let endpoint = endpoints_in(ctx, write.db()).delete(id).await?;
        write
            .commit(
                "deleteWebhookEndpoint",
                "WebhookEndpoint",
                Some(id),
                serde_json::Value::Null,
            )
            .await?;
        Ok(WebhookEndpoint(endpoint))
    }

    /// A new signing secret, shown this once; the old one stops signing at once.
    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<RotateWebhookSecretPayload> {
        let id = parse_id(&id, "webhook endpoint")?;
        let write = audited_write(ctx).await?;
        let (endpoint, secret) = endpoints_in(ctx, write.db()).rotate_secret(id).await?;
        write
            .commit(
                "rotateWebhookSecret",
                "WebhookEndpoint",
                Some(id),
                json!({ "secret": "issued" }),
            )
            .await?;
        Ok(RotateWebhookSecretPayload {
            endpoint: WebhookEndpoint(endpoint),
            secret,
        })
    }

    /// Stops new deliveries to an endpoint; its queued ones wait for `enableWebhookEndpoint`.
    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn disable_webhook_endpoint(&self, ctx: &Context<'_>, id: ID) -> Result<WebhookEndpoint> {
        let id = parse_id(&id, "webhook endpoint")?;
        let write = audited_write(ctx).await?;
        let endpoint = endpoints_in(ctx, write.db())
            .disable(id, "disabled by an administrator")
            .await?;
        write
            .commit(
                "disableWebhookEndpoint",
                "WebhookEndpoint",
                Some(id),
                serde_json::Value::Null,
            )
            .await?;
        Ok(WebhookEndpoint(endpoint))
    }

    /// Enables an endpoint (again, after it was disabled): its queued deliveries resume now.
    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn enable_webhook_endpoint(&self, ctx: &Context<'_>, id: ID) -> Result<WebhookEndpoint> {
        let id = parse_id(&id, "webhook endpoint")?;
        let write = audited_write(ctx).await?;
        let endpoint = endpoints_in(ctx, write.db()).enable(id).await?;
        write
            .commit(
                "enableWebhookEndpoint",
                "WebhookEndpoint",
                Some(id),
                serde_json::Value::Null,
            )
            .await?;
        Ok(WebhookEndpoint(endpoint))
    }

    /// Sends a signed `webhook.test` event (`data.endpointId`) to the endpoint now, enabled or
    /// not: not queued, not retried, not counted as a failure. Says how it answered.
    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn send_test_webhook(&self, ctx: &Context<'_>, id: ID) -> Result<WebhookTestResult> {
        let id = parse_id(&id, "webhook endpoint")?;
        let s = state(ctx);
        let dispatcher = outbound::Dispatcher::new(
            s.db.clone(),
            s.connector.cipher().clone(),
            s.config.webhooks.clone(),
        );
        let sent = dispatcher.send_test(id).await?;
        audited(
            ctx,
            "sendTestWebhook",
            "WebhookEndpoint",
            Some(id),
            json!({ "statusCode": sent.status_code, "succeeded": sent.succeeded() }),
        )
        .await;
        Ok(WebhookTestResult {
            succeeded: sent.succeeded(),
            status_code: sent.status_code.map(i32::from),
            latency_ms: sent.latency_ms,
            error: sent.error,
            response_excerpt: sent.response_excerpt,
            webhook_id: sent.webhook_id,
        })
    }

    /// Queues a fresh attempt of a delivery (same `webhook-id`, a fresh retry window), with the
    /// lead's data as it is then. CONFLICT while it is being sent.
    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn replay_webhook_delivery(&self, ctx: &Context<'_>, id: ID) -> Result<WebhookDelivery> {
        let id = parse_id(&id, "webhook delivery")?;
        let write = audited_write(ctx).await?;
        let delivery = endpoints_in(ctx, write.db()).replay(id).await?;
        write
            .commit(
                "replayWebhookDelivery",
                "WebhookDelivery",
                Some(id),
                json!({ "endpointId": delivery.endpoint_id }),
            )
            .await?;
        Ok(WebhookDelivery(delivery))
    }
}
