//! Black-box tests through the HTTP router against a real database.

mod common;
mod identity;
mod leads;
mod matching;
mod roles;
mod schema;
