//! Black-box tests through the HTTP router against a real database.

mod common;
mod identity;
mod ingest;
mod leads;
mod linkedin_reads;
mod matching;
mod roles;
mod schema;
mod server;
