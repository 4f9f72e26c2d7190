//! LinkedIn: the typed payloads of the Lead Sync API (and, later, the client and the sandbox).

pub mod client;
pub mod model;
pub mod restli;
pub mod sandbox;
pub mod version;
