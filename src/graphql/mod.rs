//! The GraphQL schema: roots merged from one object per domain, guards, loaders and types.

pub mod guard;
pub mod insight;
pub mod limits;
pub mod loaders;
pub mod mutation;
pub mod outbound;
pub mod query;
pub mod subscription;
pub mod types;

use async_graphql::{Context, MergedObject, SDLExportOptions, Schema, SchemaBuilder};
use sea_orm::DatabaseConnection;

use crate::{
    config::Config,
    events::EventBus,
    service::{connector::Connector, users::ViewerCache},
};

#[derive(MergedObject, Default)]
pub struct Query(
    query::IdentityQuery,
    query::LeadsQuery,
    query::MatchingQuery,
    query::LinkedInQuery,
    insight::InsightQuery,
    outbound::OutboundQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    mutation::IdentityMutation,
    mutation::LeadsMutation,
    mutation::MatchingMutation,
    mutation::LinkedInMutation,
    mutation::ProcessingMutation,
    mutation::ConnectorMutation,
    outbound::OutboundMutation,
);

pub type AppSchema = Schema<Query, Mutation, subscription::Subscription>;

/// What resolvers reach through the context.
pub struct SchemaState {
    pub db: DatabaseConnection,
    pub config: std::sync::Arc<Config>,
    pub bus: EventBus,
    pub connector: Connector,
    /// The server's remembered tokens: cleared by writes that change who may do what.
    pub viewers: std::sync::Arc<ViewerCache>,
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

/// Limits tuned so that every contract operation passes with room to spare, while hostile
/// documents (deep nesting, thousands of aliases or directives) are refused before execution.
pub const MAX_DEPTH: usize = 16;
pub const MAX_COMPLEXITY: usize = 2_000;
pub const MAX_ALIASES: usize = 50;
pub const MAX_DIRECTIVES: usize = 50;
pub const DOCUMENT_LIMITS: limits::DocumentLimits = limits::DocumentLimits {
    max_aliases: MAX_ALIASES,
    max_directives: MAX_DIRECTIVES,
};

pub fn build_schema(
    db: DatabaseConnection,
    config: std::sync::Arc<Config>,
    bus: EventBus,
    connector: Connector,
    viewers: std::sync::Arc<ViewerCache>,
) -> AppSchema {
    let mut builder = builder()
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_directives(MAX_DIRECTIVES);
    // No schema extensions (async-graphql's Tracing, a span per object field, was most of a
    // page's CPU): the document limits are checked by the executor (`http::CodedSchema`), and
    // requests are traced per HTTP request and per operation.
    if config.environment == crate::config::Environment::Production && !config.introspection {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder
        .data(loaders::Loaders::new(&db))
        .data(SchemaState {
            db,
            config,
            bus,
            connector,
            viewers,
        })
        .finish()
}

/// The SDL committed as `schema.graphql`; sorted so that it diffs cleanly.
pub fn sdl() -> String {
    builder()
        .finish()
        .sdl_with_options(SDLExportOptions::new().sorted_fields().sorted_enum_items())
}
