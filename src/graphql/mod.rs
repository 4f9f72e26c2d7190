//! The GraphQL schema: roots merged from one object per domain, guards, loaders and types.

pub mod guard;
pub mod insight;
pub mod loaders;
pub mod mutation;
pub mod query;
pub mod subscription;
pub mod types;

use async_graphql::{Context, MergedObject, SDLExportOptions, Schema, SchemaBuilder};
use sea_orm::DatabaseConnection;

use crate::{config::Config, events::EventBus, service::connector::Connector};

#[derive(MergedObject, Default)]
pub struct Query(
    query::IdentityQuery,
    query::LeadsQuery,
    query::MatchingQuery,
    query::LinkedInQuery,
    insight::InsightQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    mutation::IdentityMutation,
    mutation::LeadsMutation,
    mutation::MatchingMutation,
    mutation::LinkedInMutation,
    mutation::ProcessingMutation,
    mutation::ConnectorMutation,
);

pub type AppSchema = Schema<Query, Mutation, subscription::Subscription>;

/// What resolvers reach through the context.
pub struct SchemaState {
    pub db: DatabaseConnection,
    pub config: std::sync::Arc<Config>,
    pub bus: EventBus,
    pub connector: Connector,
}

pub fn state<'a>(ctx: &Context<'a>) -> &'a SchemaState {
    ctx.data_unchecked::<SchemaState>()
}

fn builder() -> SchemaBuilder<Query, Mutation, subscription::Subscription> {
    Schema::build(
        Query::default(),
        Mutation::default(),
        subscription::Subscription,
    )
}

pub fn build_schema(
    db: DatabaseConnection,
    config: std::sync::Arc<Config>,
    bus: EventBus,
    connector: Connector,
) -> AppSchema {
    builder()
        .data(loaders::Loaders::new(&db))
        .data(SchemaState {
            db,
            config,
            bus,
            connector,
        })
        .finish()
}

/// The SDL committed as `schema.graphql`; sorted so that it diffs cleanly.
pub fn sdl() -> String {
    builder()
        .finish()
        .sdl_with_options(SDLExportOptions::new().sorted_fields().sorted_enum_items())
}
