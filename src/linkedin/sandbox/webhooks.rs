//! Lead notifications: the subscription records, the notification body, its `X-LI-Signature`,
//! delivery, and LinkedIn's challenge validation of a webhook URL.
//!
//! The exact notification JSON is open in the spec; the sandbox sends
//! `{"notificationId", "type": "LEAD_ACTION", "leadAction": "CREATED"|"DELETED",
//! "leadGenFormResponse": "<response id>", "owner": {"sponsoredAccount"|"organization": URN},
//! "leadGenForm": "<versioned form URN>", "leadType": "SPONSORED"|"COMPANY"|.., "occurredAt": ms}`.

use std::time::Duration;

use anyhow::Context;
use hmac::{Hmac, Mac};
use rand::Rng;
use serde_json::{Value, json};
use sha2::Sha256;

use super::{WebhookAction, WebhookMode, data::Lead};

/// LinkedIn's text: the signature is computed over the body prefixed with this.
const SIGNATURE_PREFIX: &str = "hmacsha256=";

pub(super) struct Subscription {
    pub id: String,
    pub webhook: String,
    /// `urn:li:sponsoredAccount:{id}` or `urn:li:organization:{id}`.
    pub owner: String,
    pub lead_type: String,
}

impl Subscription {
    pub fn json(&self) -> Value {
        json!({
            "id": self.id,
            "webhook": self.webhook,
            "owner": owner_json(&self.owner),
            "leadType": self.lead_type,
        })
    }
}

/// `{"sponsoredAccount": urn}` or `{"organization": urn}`, by the URN's kind.
pub(super) fn owner_json(urn: &str) -> Value {
    if urn.starts_with("urn:li:organization:") {
        json!({ "organization": urn })
    } else {
        json!({ "sponsoredAccount": urn })
    }
}

/// The notification body for a change to `lead`, with a fresh notification id.
pub(super) fn notification(action: WebhookAction, lead: &Lead, now: i64) -> String {
    let mut rng = rand::rng();
    let notification_id = format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        rng.random::<u32>(),
        rng.random::<u16>(),
        rng.random_range(0..0x1000u16),
        rng.random_range(0x8000..0xC000u16),
        rng.random::<u64>() & 0xFFFF_FFFF_FFFF
    );
    json!({
        "notificationId": notification_id,
        "type": "LEAD_ACTION",
        "leadAction": match action {
            WebhookAction::Created => "CREATED",
            WebhookAction::Deleted => "DELETED",
        },
        "leadGenFormResponse": lead.id,
        "owner": owner_json(&lead.owner),
        "leadGenForm": lead.form_urn,
        "leadType": lead.lead_type,
        "occurredAt": now,
    })
    .to_string()
}

/// Lower-case hex HMAC-SHA256 of `message` under `key`.
pub(super) fn hmac_hex(key: &[u8], message: &[u8]) -> String {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// The `X-LI-Signature` value for `body` in `mode`.
pub(super) fn signature(secret: &str, body: &str, mode: WebhookMode) -> String {
    match mode {
        WebhookMode::Signed | WebhookMode::Twice => hmac_hex(
            secret.as_bytes(),
            format!("{SIGNATURE_PREFIX}{body}").as_bytes(),
        ),
        WebhookMode::SignedPlain => hmac_hex(secret.as_bytes(), body.as_bytes()),
        // A well-formed signature under another key: only a real check rejects it.
        WebhookMode::Forged => hmac_hex(
            format!("not-{secret}").as_bytes(),
            format!("{SIGNATURE_PREFIX}{body}").as_bytes(),
        ),
    }
}

/// POSTs one notification; returns the receiver's status.
pub(super) async fn deliver(
    http: &reqwest::Client,
    url: &str,
    body: &str,
    signature: &str,
) -> anyhow::Result<u16> {
    let response = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-LI-Signature", signature)
        .body(body.to_owned())
        .send()
        .await
        .with_context(|| format!("delivering a lead notification to {url}"))?;
    Ok(response.status().as_u16())
}

/// LinkedIn's webhook validation: a GET with a `challengeCode`, answered within 3 seconds by
/// 200 JSON echoing it with `challengeResponse = hex(HMAC-SHA256(secret, challengeCode))`.
pub(super) async fn challenge(
    http: &reqwest::Client,
    url: &str,
    secret: &str,
) -> anyhow::Result<bool> {
    let code = {
        let mut rng = rand::rng();
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            rng.random::<u32>(),
            rng.random::<u16>(),
            rng.random::<u16>(),
            rng.random::<u16>(),
            rng.random::<u64>() & 0xFFFF_FFFF_FFFF
        )
    };
    let mut target = url::Url::parse(url).with_context(|| format!("webhook URL {url:?}"))?;
    target.query_pairs_mut().append_pair("challengeCode", &code);
    let response = http
        .get(target)
        .timeout(Duration::from_secs(3))
        .send()
        .await
        .with_context(|| format!("validating the webhook {url}"))?;
    if response.status() != reqwest::StatusCode::OK {
        return Ok(false);
    }
    let Ok(body) = response.json::<Value>().await else {
        return Ok(false);
    };
    let expected = hmac_hex(secret.as_bytes(), code.as_bytes());
    Ok(body["challengeCode"] == code.as_str()
        && body["challengeResponse"]
            .as_str()
            .is_some_and(|r| r.eq_ignore_ascii_case(&expected)))
}
