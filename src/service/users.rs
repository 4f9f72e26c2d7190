//! API users, their roles and bearer tokens. Tokens are random, shown once and stored as SHA-256.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};
use entity::{api_token, api_user, api_user_role};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
    SqliteTransactionMode, Statement, TransactionOptions, sea_query::Query,
};
use sha2::{Digest, Sha256};

use crate::{
    domain::{Role, parse_stored},
    error::{AppError, AppResult},
};

const TOKEN_PREFIX: &str = "lsk_";

/// How stale a token's `last_used_at` may be before an authentication writes it again: a
/// token in constant use costs one write a minute, not one a request.
const LAST_USED_PRECISION: TimeDelta = TimeDelta::seconds(60);

/// Any constant shared by all instances: the PostgreSQL advisory lock that serializes changes
/// to who may administer (roles, disabling, revoking), so that two administrators demoting
/// each other at once cannot both pass the last-administrator check.
const ADMINISTRATION_LOCK_KEY: i64 = 0x1ead_ad01;

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
    db: &impl crate::service::Db,
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
    let token = issue_token(&txn, user.id, now).await?;
    txn.commit().await?;
    tracing::info!(user_id = user.id, roles = ?roles, "created API user");
    Ok(CreatedUser { user, roles, token })
}

/// Stores a new token of `user_id` (its hash only) and returns the token.
async fn issue_token(
    db: &impl ConnectionTrait,
    user_id: i64,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let token = new_token();
    api_token::ActiveModel {
        user_id: Set(user_id),
        token_hash: Set(hash_token(&token)),
        created_at: Set(now),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// Tokens authenticated in the last `ttl`, so that a request usually costs no statement to
/// authenticate. Only successes are kept (an unknown token always reaches the database). The
/// API's own writes that change who may do what (a token revoked, a user disabled, roles
/// changed) `clear` it, so they take effect at once; a change made in the database by other
/// means (or on another instance) takes effect within `ttl`.
pub struct ViewerCache {
    ttl: Duration,
    inner: Mutex<CacheInner>,
}

struct CacheInner {
    entries: HashMap<String, (Instant, Viewer)>,
    /// Bumped by `clear`: an answer read from the database before a clear is not remembered
    /// after it (it may predate the write that cleared).
    generation: u64,
}

/// Tokens remembered at most; past it, expired entries go, then all of them.
const VIEWER_CACHE_CAPACITY: usize = 10_000;

impl ViewerCache {
    /// A cache keeping viewers `ttl`; a zero `ttl` keeps none.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            inner: Mutex::new(CacheInner {
                entries: HashMap::new(),
                generation: 0,
            }),
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
        let generation = {
            let inner = self.lock();
            if let Some((at, viewer)) = inner.entries.get(&key)
                && now.duration_since(*at) < self.ttl
            {
                return Ok(Some(viewer.clone()));
            }
            inner.generation
        };
        let viewer = authenticate(db, token).await?;
        let mut inner = self.lock();
        if inner.generation != generation {
            return Ok(viewer);
        }
        let entries = &mut inner.entries;
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
        let mut inner = self.lock();
        inner.entries.clear();
        inner.generation += 1;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        // A panic while holding the lock cannot leave the map inconsistent: use it anyway.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
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
    let now = Utc::now();
    if stored
        .last_used_at
        .is_none_or(|at| now - at >= LAST_USED_PRECISION)
    {
        api_token::Entity::update_many()
            .col_expr(
                api_token::Column::LastUsedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(api_token::Column::Id.eq(stored.id))
            .exec(db)
            .await?;
    }
    Ok(Some(Viewer {
        user_id: user.id,
        name: user.name,
        roles,
    }))
}

/// The viewer a credential other than a token names (a signed download link), by the rules a
/// token's user is held to: `None` unless the user exists, is enabled and still holds a live
/// token (a user whose every token was revoked signs in no more, so their links stop too).
pub async fn viewer_by_id(db: &DatabaseConnection, user_id: i64) -> AppResult<Option<Viewer>> {
    let Some(user) = api_user::Entity::find_by_id(user_id)
        .filter(api_user::Column::DisabledAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let live = api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(user.id))
        .filter(api_token::Column::RevokedAt.is_null())
        .count(db)
        .await?;
    if live == 0 {
        return Ok(None);
    }
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

pub async fn get_user(db: &impl ConnectionTrait, id: i64) -> AppResult<api_user::Model> {
    api_user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("API user", id))
}

// ------------------------------------------------------------------ administration
//
// Lockout safety: nobody disables themself or gives up their own SYSTEM_ADMINISTRATOR role, and
// the last enabled system administrator holding a live token is never disabled, demoted or left
// without a token. Each of these writes runs under one lock (`administration`), so concurrent
// ones cannot each pass the check and together break it. The caller clears the `ViewerCache`
// after them, so they take effect at once.

/// A transaction holding the administration lock: SQLite's write lock from `BEGIN IMMEDIATE`,
/// a transaction-scoped advisory lock on PostgreSQL.
async fn administration(db: &impl crate::service::Db) -> AppResult<DatabaseTransaction> {
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?;
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.query_one_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [ADMINISTRATION_LOCK_KEY.into()],
        ))
        .await?;
    }
    Ok(txn)
}

/// Whether a user other than `except` can administer: enabled, SYSTEM_ADMINISTRATOR, with a
/// live token.
async fn another_administrator(db: &impl ConnectionTrait, except: i64) -> AppResult<bool> {
    let count = api_user_role::Entity::find()
        .filter(api_user_role::Column::Role.eq(Role::SystemAdministrator.as_str()))
        .filter(api_user_role::Column::UserId.ne(except))
        .filter(
            api_user_role::Column::UserId.in_subquery(
                Query::select()
                    .column(api_user::Column::Id)
                    .from(api_user::Entity)
                    .and_where(api_user::Column::DisabledAt.is_null())
                    .to_owned(),
            ),
        )
        .filter(
            api_user_role::Column::UserId.in_subquery(
                Query::select()
                    .column(api_token::Column::UserId)
                    .from(api_token::Entity)
                    .and_where(api_token::Column::RevokedAt.is_null())
                    .to_owned(),
            ),
        )
        .count(db)
        .await?;
    Ok(count > 0)
}

/// Refuses a change that would leave `user` unable to administer when nobody else can.
async fn keep_an_administrator(
    db: &impl ConnectionTrait,
    user: &api_user::Model,
    change: &str,
) -> AppResult<()> {
    let administers = user.disabled_at.is_none()
        && roles_of(db, user.id)
            .await?
            .contains(&Role::SystemAdministrator);
    if administers && !another_administrator(db, user.id).await? {
        return Err(AppError::conflict(format!(
            "API user {} is the last enabled system administrator with a live token: {change} \
             would leave nobody able to administer; make another user a system administrator first",
            user.id
        )));
    }
    Ok(())
}

/// A user's roles before and after `update_roles`.
pub struct RolesChanged {
    pub user: api_user::Model,
    pub before: Vec<Role>,
    pub after: Vec<Role>,
}

/// Replaces the roles of user `id`; `actor` is the caller.
pub async fn update_roles(
    db: &impl crate::service::Db,
    actor: i64,
    id: i64,
    roles: &[Role],
) -> AppResult<RolesChanged> {
    if roles.is_empty() {
        return Err(AppError::bad_input("a user needs at least one role"));
    }
    let mut after = roles.to_vec();
    after.sort();
    after.dedup();
    let demotes = !after.contains(&Role::SystemAdministrator);
    if actor == id && demotes {
        return Err(AppError::conflict(
            "you cannot remove your own SYSTEM_ADMINISTRATOR role; another system administrator can",
        ));
    }
    let txn = administration(db).await?;
    let user = get_user(&txn, id).await?;
    let before = roles_of(&txn, id).await?;
    if demotes {
        keep_an_administrator(&txn, &user, "removing its SYSTEM_ADMINISTRATOR role").await?;
    }
    if before != after {
        let now = Utc::now();
        api_user_role::Entity::delete_many()
            .filter(api_user_role::Column::UserId.eq(id))
            .filter(api_user_role::Column::Role.is_not_in(after.iter().map(|r| r.as_str())))
            .exec(&txn)
            .await?;
        let added: Vec<_> = after
            .iter()
            .filter(|r| !before.contains(r))
            .map(|role| api_user_role::ActiveModel {
                user_id: Set(id),
                role: Set(role.as_str().to_owned()),
                created_at: Set(now),
            })
            .collect();
        if !added.is_empty() {
            api_user_role::Entity::insert_many(added)
                .exec_without_returning(&txn)
                .await?;
        }
    }
    txn.commit().await?;
    tracing::info!(user_id = id, roles = ?after, "changed API user roles");
    Ok(RolesChanged {
        user,
        before,
        after,
    })
}

/// Disables user `id` (its tokens stop working); `actor` is the caller. Disabling a disabled
/// user changes nothing.
pub async fn disable_user(
    db: &impl crate::service::Db,
    actor: i64,
    id: i64,
) -> AppResult<api_user::Model> {
    if actor == id {
        return Err(AppError::conflict(
            "you cannot disable yourself; another system administrator can",
        ));
    }
    let txn = administration(db).await?;
    let user = get_user(&txn, id).await?;
    if user.disabled_at.is_some() {
        txn.commit().await?;
        return Ok(user);
    }
    keep_an_administrator(&txn, &user, "disabling it").await?;
    let mut model: api_user::ActiveModel = user.into();
    model.disabled_at = Set(Some(Utc::now()));
    let user = model.update(&txn).await?;
    txn.commit().await?;
    tracing::info!(user_id = id, "disabled API user");
    Ok(user)
}

/// Enables user `id` again: its live tokens work again.
pub async fn enable_user(db: &impl ConnectionTrait, id: i64) -> AppResult<api_user::Model> {
    let user = get_user(db, id).await?;
    if user.disabled_at.is_none() {
        return Ok(user);
    }
    let mut model: api_user::ActiveModel = user.into();
    model.disabled_at = Set(None);
    let user = model.update(db).await?;
    tracing::info!(user_id = id, "enabled API user");
    Ok(user)
}

/// Revokes token `id` for good. Revoking a revoked token changes nothing.
pub async fn revoke_token(db: &impl crate::service::Db, id: i64) -> AppResult<api_token::Model> {
    let txn = administration(db).await?;
    let token = api_token::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("API token", id))?;
    if token.revoked_at.is_some() {
        txn.commit().await?;
        return Ok(token);
    }
    let others_live = api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(token.user_id))
        .filter(api_token::Column::Id.ne(id))
        .filter(api_token::Column::RevokedAt.is_null())
        .count(&txn)
        .await?;
    if others_live == 0 {
        let owner = get_user(&txn, token.user_id).await?;
        keep_an_administrator(
            &txn,
            &owner,
            "revoking its last live token (rotate it instead)",
        )
        .await?;
    }
    let mut model: api_token::ActiveModel = token.into();
    model.revoked_at = Set(Some(Utc::now()));
    let token = model.update(&txn).await?;
    txn.commit().await?;
    tracing::info!(token_id = id, user_id = token.user_id, "revoked API token");
    Ok(token)
}

/// What `rotate_token` did: the user, its new token (shown once) and how many live tokens it
/// revoked.
pub struct RotatedToken {
    pub user: api_user::Model,
    pub token: String,
    pub revoked: u64,
}

/// Revokes every live token of user `user_id` and issues one new token, in one transaction.
pub async fn rotate_token(db: &impl crate::service::Db, user_id: i64) -> AppResult<RotatedToken> {
    let txn = administration(db).await?;
    let user = get_user(&txn, user_id).await?;
    let now = Utc::now();
    let revoked = api_token::Entity::update_many()
        .col_expr(
            api_token::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    let token = issue_token(&txn, user_id, now).await?;
    txn.commit().await?;
    tracing::info!(user_id, revoked, "rotated API user token");
    Ok(RotatedToken {
        user,
        token,
        revoked,
    })
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
