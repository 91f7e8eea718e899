//! What several instances on one database share: leases for once-per-cluster work, and the
//! newest heartbeat of every push monitor (so any instance may receive a heartbeat and every
//! instance, restarted or not, judges it the same).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ClusterLeases {
    Table,
    /// What the lease is for: `maintenance`, `drafts`, `retention`, …
    Name,
    /// The instance holding it (a random id drawn at start).
    Holder,
    /// The holder renews before this; past it, any instance may take the lease.
    ExpiresAt,
}

#[derive(DeriveIden)]
enum PushBeats {
    Table,
    MonitorId,
    /// Since when a heartbeat is awaited (the first time any instance listened for it).
    WaitingSince,
    /// The newest heartbeat: when, its outcome, latency and reason.
    BeatAt,
    Outcome,
    LatencyMs,
    Reason,
}

#[derive(DeriveIden)]
enum Monitors {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_tables(
            manager,
            [
                Table::create()
                    .table(ClusterLeases::Table)
                    .col(string(ClusterLeases::Name).primary_key())
                    .col(string(ClusterLeases::Holder))
                    .col(timestamp_with_time_zone(ClusterLeases::ExpiresAt))
                    .to_owned(),
                Table::create()
                    .table(PushBeats::Table)
                    .col(big_integer(PushBeats::MonitorId).primary_key())
                    .col(timestamp_with_time_zone(PushBeats::WaitingSince))
                    .col(timestamp_with_time_zone_null(PushBeats::BeatAt))
                    .col(string_null(PushBeats::Outcome))
                    .col(big_integer_null(PushBeats::LatencyMs))
                    .col(text_null(PushBeats::Reason))
                    .foreign_key(&mut foreign_key_cascade(
                        "fk_push_beats_monitor",
                        (PushBeats::Table, PushBeats::MonitorId),
                        (Monitors::Table, Monitors::Id),
                    ))
                    .to_owned(),
            ],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
                PushBeats::Table.into_iden(),
                ClusterLeases::Table.into_iden(),
            ],
        )
        .await?;
        Ok(())
    }
}
