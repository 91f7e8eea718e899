//! Probing divided between the instances of one location: one row per (location, monitor)
//! naming the instance that probes it and until when (`store::probe_leases`). An instance
//! renews the rows it holds; a row whose holder stopped renewing is taken by another
//! instance of the same location.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ProbeLeases {
    Table,
    LocationId,
    MonitorId,
    /// The instance probing the monitor from this location; none when free.
    Holder,
    /// The holder renews before this; past it, another instance may take the monitor.
    ExpiresAt,
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
            [Table::create()
                .table(ProbeLeases::Table)
                .col(string(ProbeLeases::LocationId))
                .col(big_integer(ProbeLeases::MonitorId))
                .col(string_null(ProbeLeases::Holder))
                .col(timestamp_with_time_zone(ProbeLeases::ExpiresAt))
                .primary_key(
                    Index::create()
                        .col(ProbeLeases::LocationId)
                        .col(ProbeLeases::MonitorId),
                )
                .foreign_key(&mut foreign_key_cascade(
                    "fk_probe_leases_monitor",
                    (ProbeLeases::Table, ProbeLeases::MonitorId),
                    (Monitors::Table, Monitors::Id),
                ))
                .to_owned()],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, [ProbeLeases::Table.into_iden()]).await?;
        Ok(())
    }
}
