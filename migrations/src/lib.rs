//! Vigie's schema history. Every migration runs unchanged on SQLite and PostgreSQL; the store's
//! tests run them on both.

pub use sea_orm_migration::prelude::*;

mod helpers;

mod m20261127_000001_catalog;
mod m20261128_000001_probe_history;
mod m20261129_000002_staff;
mod m20261130_000001_drafts;
mod m20261130_000002_totp;
mod m20261207_000050_notifications;
mod m20261207_000060_cluster;
mod m20261207_000061_change_notify;
mod m20261207_000062_agents;
mod m20261207_000150_structured_reasons;
mod m20261207_000160_probe_leases;
mod m20261207_000170_push_tokens;
mod m20261207_000171_probe_header_secrets;
mod m20261207_000180_location_troubles;

/// Applies Vigie's migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_catalog::Migration),
            Box::new(m20261128_000001_probe_history::Migration),
            Box::new(m20261129_000002_staff::Migration),
            Box::new(m20261130_000001_drafts::Migration),
            Box::new(m20261130_000002_totp::Migration),
            Box::new(m20261207_000050_notifications::Migration),
            Box::new(m20261207_000060_cluster::Migration),
            Box::new(m20261207_000061_change_notify::Migration),
            Box::new(m20261207_000062_agents::Migration),
            Box::new(m20261207_000150_structured_reasons::Migration),
            Box::new(m20261207_000160_probe_leases::Migration),
            Box::new(m20261207_000180_location_troubles::Migration),
            Box::new(m20261207_000170_push_tokens::Migration),
            Box::new(m20261207_000171_probe_header_secrets::Migration),
        ]
    }
}
