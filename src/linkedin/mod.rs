//! LinkedIn: the typed payloads of the Lead Sync API (and, later, the client and the sandbox).

pub mod model;
