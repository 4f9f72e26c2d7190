//! API users, their roles and bearer tokens. Tokens are random, shown once and stored as SHA-256.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use base64::Engine;
use chrono::Utc;
use entity::{api_token, api_user, api_user_role};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use sha2::{Digest, Sha256};

use crate::{
    domain::{Role, parse_stored},
    error::{AppError, AppResult},
};

const TOKEN_PREFIX: &str = "lsk_";

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub user_id: i64,
    pub name: String,
    pub roles: Vec<Role>,
}

impl Viewer {
    /// System administrators may do everything; others need one of `roles`.
    pub fn has_any(&self, roles: &[Role]) -> bool {
        self.roles
            .iter()
            .any(|r| *r == Role::SystemAdministrator || roles.contains(r))
    }
}

pub struct CreatedUser {
    pub user: api_user::Model,
    pub roles: Vec<Role>,
    pub token: String,
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

pub async fn create_user(
    db: &DatabaseConnection,
    name: &str,
    roles: &[Role],
) -> AppResult<CreatedUser> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::bad_input("name must be 1 to 200 characters"));
    }
    if roles.is_empty() {
        return Err(AppError::bad_input("a user needs at least one role"));
    }
    let mut roles = roles.to_vec();
    roles.sort();
    roles.dedup();

    let now = Utc::now();
    let token = new_token();
    let txn = db.begin().await?;
    let user = api_user::ActiveModel {
        name: Set(name.to_owned()),
        created_at: Set(now),
        disabled_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    api_user_role::Entity::insert_many(roles.iter().map(|role| api_user_role::ActiveModel {
        user_id: Set(user.id),
        role: Set(role.as_str().to_owned()),
        created_at: Set(now),
    }))
    .exec(&txn)
    .await?;
    api_token::ActiveModel {
        user_id: Set(user.id),
        token_hash: Set(hash_token(&token)),
        created_at: Set(now),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    tracing::info!(user_id = user.id, roles = ?roles, "created API user");
    Ok(CreatedUser { user, roles, token })
}

/// Tokens authenticated in the last `ttl`, so that a request usually costs no statement to
/// authenticate. Only successes are kept (an unknown token always reaches the database), and a
/// token revoked or a user disabled in the database stops working within `ttl`.
pub struct ViewerCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, Viewer)>>,
}

/// Tokens remembered at most; past it, expired entries go, then all of them.
const VIEWER_CACHE_CAPACITY: usize = 10_000;

impl ViewerCache {
    /// A cache keeping viewers `ttl`; a zero `ttl` keeps none.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// `authenticate`, answered from memory while the token's entry is fresh.
    pub async fn authenticate(
        &self,
        db: &DatabaseConnection,
        token: &str,
    ) -> AppResult<Option<Viewer>> {
        if self.ttl.is_zero() {
            return authenticate(db, token).await;
        }
        let key = hash_token(token);
        let now = Instant::now();
        if let Some((at, viewer)) = self.lock().get(&key)
            && now.duration_since(*at) < self.ttl
        {
            return Ok(Some(viewer.clone()));
        }
        let viewer = authenticate(db, token).await?;
        let mut entries = self.lock();
        match &viewer {
            Some(viewer) => {
                if entries.len() >= VIEWER_CACHE_CAPACITY {
                    entries.retain(|_, (at, _)| now.duration_since(*at) < self.ttl);
                    if entries.len() >= VIEWER_CACHE_CAPACITY {
                        entries.clear();
                    }
                }
                entries.insert(key, (now, viewer.clone()));
            }
            None => {
                entries.remove(&key);
            }
        }
        Ok(viewer)
    }

    /// Forgets every viewer: the next request of each token reads the database again.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Viewer)>> {
        // A panic while holding the lock cannot leave the map inconsistent: use it anyway.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Resolves a bearer token to its user; `None` for unknown, revoked or disabled.
pub async fn authenticate(db: &DatabaseConnection, token: &str) -> AppResult<Option<Viewer>> {
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
        return Ok(None);
    }
    let Some(stored) = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(hash_token(token)))
        .filter(api_token::Column::RevokedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(user) = api_user::Entity::find_by_id(stored.user_id)
        .filter(api_user::Column::DisabledAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let roles = roles_of(db, user.id).await?;
    Ok(Some(Viewer {
        user_id: user.id,
        name: user.name,
        roles,
    }))
}

pub async fn roles_of(db: &impl ConnectionTrait, user_id: i64) -> AppResult<Vec<Role>> {
    api_user_role::Entity::find()
        .filter(api_user_role::Column::UserId.eq(user_id))
        .order_by_asc(api_user_role::Column::Role)
        .all(db)
        .await?
        .iter()
        .map(|r| parse_stored(&r.role))
        .collect()
}

pub async fn list_users(db: &DatabaseConnection) -> AppResult<Vec<api_user::Model>> {
    Ok(api_user::Entity::find()
        .order_by_asc(api_user::Column::Id)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_prefixed() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), a);
    }

    #[test]
    fn system_administrator_may_do_everything() {
        let admin = Viewer {
            user_id: 1,
            name: "a".into(),
            roles: vec![Role::SystemAdministrator],
        };
        let sales = Viewer {
            user_id: 2,
            name: "s".into(),
            roles: vec![Role::LeadgenSalesperson],
        };
        assert!(admin.has_any(&[Role::S2sInbound]));
        assert!(sales.has_any(&[Role::LeadgenSalesperson]));
        assert!(!sales.has_any(&[Role::LeadgenAdministrator]));
    }
}
