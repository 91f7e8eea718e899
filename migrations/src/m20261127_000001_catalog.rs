//! The catalog (locations, hosts, groups, services, monitors) and raw check results.
//!
//! Catalog rows are keyed by the ids written in the configuration, so a restart re-attaches
//! history to the same rows; a row removed from the configuration gets `archived_at`, never a
//! `DELETE`, so its history stays.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Locations {
    Table,
    Id,
    Name,
    ArchivedAt,
}

#[derive(DeriveIden)]
enum Hosts {
    Table,
    Id,
    Name,
    Kind,
    ParentId,
    Position,
    ArchivedAt,
}

#[derive(DeriveIden)]
enum ServiceGroups {
    Table,
    Id,
    Name,
    Position,
    ArchivedAt,
}

#[derive(DeriveIden)]
enum Services {
    Table,
    Id,
    Name,
    GroupId,
    HostId,
    Description,
    Url,
    DependsOn,
    Position,
    CreatedAt,
    ArchivedAt,
}

#[derive(DeriveIden)]
enum Monitors {
    Table,
    Id,
    Key,
    ServiceId,
    HostId,
    Kind,
    Target,
    IntervalMs,
    TimeoutMs,
    RetryIntervalMs,
    Confirm,
    Recover,
    Locations,
    DegradedAfterMs,
    Settings,
    ArchivedAt,
}

#[derive(DeriveIden)]
enum CheckResults {
    Table,
    Id,
    MonitorId,
    LocationId,
    CheckedAt,
    Outcome,
    LatencyMs,
    StatusCode,
    Reason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_tables(
            manager,
            [
                Table::create()
                    .table(Locations::Table)
                    .col(string(Locations::Id).primary_key())
                    .col(string(Locations::Name))
                    .col(timestamp_with_time_zone_null(Locations::ArchivedAt))
                    .to_owned(),
                Table::create()
                    .table(Hosts::Table)
                    .col(string(Hosts::Id).primary_key())
                    .col(string(Hosts::Name))
                    .col(string(Hosts::Kind))
                    .col(string_null(Hosts::ParentId))
                    .col(integer(Hosts::Position))
                    .col(timestamp_with_time_zone_null(Hosts::ArchivedAt))
                    .to_owned(),
                Table::create()
                    .table(ServiceGroups::Table)
                    .col(string(ServiceGroups::Id).primary_key())
                    .col(string(ServiceGroups::Name))
                    .col(integer(ServiceGroups::Position))
                    .col(timestamp_with_time_zone_null(ServiceGroups::ArchivedAt))
                    .to_owned(),
                Table::create()
                    .table(Services::Table)
                    .col(string(Services::Id).primary_key())
                    .col(string(Services::Name))
                    .col(string(Services::GroupId))
                    .col(string_null(Services::HostId))
                    .col(text_null(Services::Description))
                    .col(text_null(Services::Url))
                    .col(text(Services::DependsOn))
                    .col(integer(Services::Position))
                    .col(timestamp_with_time_zone(Services::CreatedAt))
                    .col(timestamp_with_time_zone_null(Services::ArchivedAt))
                    .to_owned(),
                Table::create()
                    .table(Monitors::Table)
                    .col(big_pk_auto(Monitors::Id))
                    .col(string_uniq(Monitors::Key))
                    .col(string_null(Monitors::ServiceId))
                    .col(string_null(Monitors::HostId))
                    .col(string(Monitors::Kind))
                    .col(text(Monitors::Target))
                    .col(big_integer(Monitors::IntervalMs))
                    .col(big_integer(Monitors::TimeoutMs))
                    .col(big_integer(Monitors::RetryIntervalMs))
                    .col(integer(Monitors::Confirm))
                    .col(integer(Monitors::Recover))
                    .col(text(Monitors::Locations))
                    .col(big_integer_null(Monitors::DegradedAfterMs))
                    .col(text(Monitors::Settings))
                    .col(timestamp_with_time_zone_null(Monitors::ArchivedAt))
                    .to_owned(),
                Table::create()
                    .table(CheckResults::Table)
                    .col(big_pk_auto(CheckResults::Id))
                    .col(big_integer(CheckResults::MonitorId))
                    .col(string(CheckResults::LocationId))
                    .col(timestamp_with_time_zone(CheckResults::CheckedAt))
                    .col(string(CheckResults::Outcome))
                    .col(integer_null(CheckResults::LatencyMs))
                    .col(integer_null(CheckResults::StatusCode))
                    .col(text_null(CheckResults::Reason))
                    .foreign_key(&mut foreign_key(
                        "fk_check_results_monitor",
                        (CheckResults::Table, CheckResults::MonitorId),
                        (Monitors::Table, Monitors::Id),
                    ))
                    .to_owned(),
            ],
        )
        .await?;
        create_index(
            manager,
            "idx_check_results_monitor_time",
            CheckResults::Table,
            [CheckResults::MonitorId, CheckResults::CheckedAt],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
                CheckResults::Table.into_iden(),
                Monitors::Table.into_iden(),
                Services::Table.into_iden(),
                ServiceGroups::Table.into_iden(),
                Hosts::Table.into_iden(),
                Locations::Table.into_iden(),
            ],
        )
        .await?;
        Ok(())
    }
}
