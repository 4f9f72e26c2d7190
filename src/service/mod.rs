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

use sea_orm::{ConnectionTrait, DatabaseTransaction, TransactionTrait};

/// The pool or a transaction. A service write given a transaction (an audited write,
/// `audit::AuditedWrite`) runs inside it: its own transaction becomes a savepoint.
pub trait Db: ConnectionTrait + TransactionTrait<Transaction = DatabaseTransaction> {}

impl<T: ConnectionTrait + TransactionTrait<Transaction = DatabaseTransaction>> Db for T {}
