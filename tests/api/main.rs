//! Black-box tests through the HTTP router against a real database.

mod administration;
mod audit;
mod common;
mod connector;
mod consents;
mod console;
#[path = "../contract/operations.rs"]
mod contract;
mod dashboard;
mod demo;
mod doctor;
mod exports;
mod hardening;
mod identity;
mod ingest;
mod insight;
mod lead_events;
mod leads;
mod linkedin_reads;
mod live;
mod matching;
mod organic;
mod outbound;
mod personal_logs;
mod pii_watch;
mod privacy;
mod query_space;
mod resume;
mod retention;
mod roles;
mod sandbox;
mod schema;
mod server;
mod today;
