//! Which monitors each probe location alone sees failing (the others and the quorum see them
//! up): the location's own trouble, not the services'. A row is the state the alert is decided
//! from, shared by every instance: the instance whose insert creates a location's first row
//! queues its "location trouble" alert, the one whose delete removes its last row queues the
//! "over" one, so several instances judging alike alert once.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LocationTroubles {
    Table,
    MonitorId,
    LocationId,
    /// When this location was first seen failing alone on this monitor.
    Since,
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
                .table(LocationTroubles::Table)
                .col(big_integer(LocationTroubles::MonitorId))
                .col(string(LocationTroubles::LocationId))
                .col(timestamp_with_time_zone(LocationTroubles::Since))
                .primary_key(
                    Index::create()
                        .col(LocationTroubles::MonitorId)
                        .col(LocationTroubles::LocationId),
                )
                .foreign_key(&mut foreign_key_cascade(
                    "fk_location_troubles_monitor",
                    (LocationTroubles::Table, LocationTroubles::MonitorId),
                    (Monitors::Table, Monitors::Id),
                ))
                .to_owned()],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, [LocationTroubles::Table.into_iden()]).await?;
        Ok(())
    }
}
