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
    for p in crate::service::linkedin::list_profiles(db).await? {
        out.extend(profile_warning(&p, now));
    }
    Ok(out)
}
