//! Role guards on root fields. `SYSTEM_ADMINISTRATOR` passes every guard.

use async_graphql::{Context, Guard, Result};

use crate::{domain::Role, error::AppError, service::users::Viewer};

/// Who may call a field: a viewer holding any of these roles (or a system administrator).
pub struct RoleGuard(pub &'static [Role]);

impl Guard for RoleGuard {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        let Some(viewer) = ctx.data_opt::<Viewer>() else {
            return Err(AppError::Unauthenticated(
                "send an API token: Authorization: Bearer <token>".into(),
            )
            .into());
        };
        if viewer.has_any(self.0) {
            Ok(())
        } else {
            Err(AppError::Forbidden("your roles do not allow this operation".into()).into())
        }
    }
}

use Role::*;

/// Any authenticated user.
pub const ANYONE: &[Role] = &[
    SystemAdministrator,
    LeadgenAdministrator,
    LeadgenSalesperson,
    S2sInbound,
];
/// Users and roles.
pub const SYSTEM: &[Role] = &[];
/// Matching strategies, field mappings, integration configuration.
pub const LEADGEN_ADMIN: &[Role] = &[LeadgenAdministrator];
/// Reading leads, submissions and LinkedIn data; creating and updating leads.
pub const LEAD_USERS: &[Role] = &[LeadgenAdministrator, LeadgenSalesperson];
/// LinkedIn user profiles.
pub const SALESPERSON: &[Role] = &[LeadgenSalesperson];
/// The server-to-server inbound door.
pub const INBOUND: &[Role] = &[S2sInbound];
