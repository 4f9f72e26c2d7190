//! The domain services: plain Rust over SeaORM, no GraphQL types.

pub mod audit;
pub mod batch;
pub mod configuration;
pub mod connector;
pub mod doctor;
pub mod export;
pub mod health;
pub mod ingest;
pub mod insight;
pub mod lead_events;
pub mod leads;
pub mod linkedin;
pub mod mappings;
pub mod matching;
pub mod outbound;
pub mod paging;
pub mod preview;
pub mod privacy;
pub mod retention;
pub mod strategies;
pub mod users;
pub mod webhooks;
