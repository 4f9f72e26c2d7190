//! What an operator or salesperson must act on before LinkedIn stops answering: the API
//! version's sunset, and profiles whose authorization ends (60 days without programmatic refresh,
//! 365 days from the first consent with it).

use chrono::{DateTime, Duration, Utc};
use entity::linkedin_profile;
use sea_orm::DatabaseConnection;

use crate::{
    config::Config,
    domain::{AuthorizationStatus, parse_stored},
    error::AppResult,
    linkedin::version,
    service::webhooks,
};

/// Days ahead of a re-authorization deadline from which people are warned.
pub const REAUTHORIZE_WARN_DAYS: i64 = 14;

/// When a profile's member must authorize LinkedIn again, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reauthorization {
    pub by: DateTime<Utc>,
    /// LinkedIn gave no refresh token (the app has no programmatic refresh): the access token's
    /// 60 days are all there is. Otherwise the refresh token's 365 days from the first consent.
    pub without_refresh: bool,
}

/// None while the profile is not authorized, or its deadline is unknown.
pub fn reauthorization(p: &linkedin_profile::Model) -> Option<Reauthorization> {
    if parse_stored::<AuthorizationStatus>(&p.authorization_status).ok()?
        != AuthorizationStatus::Authorized
    {
        return None;
    }
    if p.refresh_token_enc.is_some() {
        p.refresh_token_expires_at.map(|by| Reauthorization {
            by,
            without_refresh: false,
        })
    } else {
        p.token_expires_at.map(|by| Reauthorization {
            by,
            without_refresh: true,
        })
    }
}

/// A warning for the profile when its deadline is within [`REAUTHORIZE_WARN_DAYS`] of `now`,
/// or when its authorization has already ended.
pub fn profile_warning(p: &linkedin_profile::Model, now: DateTime<Utc>) -> Option<String> {
    let status = parse_stored::<AuthorizationStatus>(&p.authorization_status).ok()?;
    if status == AuthorizationStatus::Expired {
        return Some(format!(
            "LinkedIn user profile \"{}\" is no longer authorized and does not sync: authorize it again.",
            p.name
        ));
    }
    let r = reauthorization(p)?;
    let left = r.by - now;
    if left > Duration::days(REAUTHORIZE_WARN_DAYS) {
        return None;
    }
    let why = if r.without_refresh {
        "LinkedIn gives this app no refresh token, so each authorization lasts 60 days"
    } else {
        "LinkedIn's refresh token ends 365 days after the first consent"
    };
    Some(if left <= Duration::zero() {
        format!(
            "LinkedIn user profile \"{}\" had to be authorized again by {} ({why}): authorize it again.",
            p.name,
            r.by.format("%Y-%m-%d")
        )
    } else {
        format!(
            "LinkedIn user profile \"{}\" must be authorized again by {} ({} days; {why}).",
            p.name,
            r.by.format("%Y-%m-%d"),
            left.num_days()
        )
    })
}

/// Everything to act on now: the API version first, then each profile.
pub async fn warnings(db: &DatabaseConnection, config: &Config) -> AppResult<Vec<String>> {
    let now = Utc::now();
    let mut out = Vec::new();
    if !config.linkedin.linkedin_client_id.is_empty()
        && let Some(w) = version::warning(config.linkedin.linkedin_api_version, now.date_naive())
    {
        out.push(w);
    }
    let profiles = crate::service::linkedin::list_profiles(db).await?;
    for p in &profiles {
        out.extend(profile_warning(p, now));
    }
    let authorized = profiles.iter().any(|p| reauthorization(p).is_some());
    if authorized && config.webhook_url().is_some() {
        out.extend(webhook_warnings(db, now).await?);
    }
    Ok(out)
}

/// LinkedIn re-validates every 2 hours: three missed in a row and it blocks the webhook.
const VALIDATION_STALE: Duration = Duration::hours(6);

/// A webhook LinkedIn stopped validating, or one that stayed silent about leads a sync found.
async fn webhook_warnings(db: &DatabaseConnection, now: DateTime<Utc>) -> AppResult<Vec<String>> {
    let mut out = Vec::new();
    let last = webhooks::last_validated_at(db).await?;
    if let Some(at) = last.filter(|at| now - *at > VALIDATION_STALE) {
        out.push(format!(
            "LinkedIn last validated the lead webhook at {}: it re-validates every 2 hours and blocks a webhook after 3 failures. Run `leadsync doctor`; scheduled syncs keep catching every lead.",
            at.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    let silent = webhooks::unannounced_recent(db, now).await?;
    if silent > 0 {
        out.push(format!(
            "{silent} lead(s) submitted in the last 24 hours reached leadsync only through scheduled syncs, more than {} minutes late: LinkedIn's webhook did not announce them. Run `leadsync doctor` to check the webhook; syncs keep catching every lead.",
            webhooks::ANNOUNCE_GRACE.num_minutes()
        ));
    }
    Ok(out)
}
