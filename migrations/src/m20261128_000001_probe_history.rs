//! The probe engine's history: per-location monitor states (so confirmation survives a
//! restart), status change events with their cause, the current status of every service and
//! host, and the hourly / daily rollups the uptime bars read.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MonitorStates {
    Table,
    MonitorId,
    LocationId,
    Confirmed,
    Since,
    Candidate,
    Streak,
    LastOutcome,
    LastAt,
    LastReason,
}

#[derive(DeriveIden)]
enum StatusEvents {
    Table,
    Id,
    SubjectKind,
    SubjectId,
    LocationId,
    FromStatus,
    ToStatus,
    Cause,
    At,
}

#[derive(DeriveIden)]
enum CurrentStatuses {
    Table,
    SubjectKind,
    SubjectId,
    Status,
    Cause,
    Since,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Rollups {
    Table,
    MonitorId,
    LocationId,
    Period,
    BucketStart,
    UpMs,
    DegradedMs,
    DownMs,
    NoDataMs,
    Checks,
    LatencyHistogram,
    LatencyP50Ms,
    LatencyP95Ms,
    LatencyMaxMs,
}

#[derive(DeriveIden)]
enum CheckResults {
    Table,
    CheckedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_tables(
            manager,
            [
                Table::create()
                    .table(MonitorStates::Table)
                    .col(big_integer(MonitorStates::MonitorId))
                    .col(string(MonitorStates::LocationId))
                    .col(string_null(MonitorStates::Confirmed))
                    .col(timestamp_with_time_zone_null(MonitorStates::Since))
                    .col(string_null(MonitorStates::Candidate))
                    .col(integer(MonitorStates::Streak))
                    .col(string_null(MonitorStates::LastOutcome))
                    .col(timestamp_with_time_zone_null(MonitorStates::LastAt))
                    .col(text_null(MonitorStates::LastReason))
                    .primary_key(
                        Index::create()
                            .col(MonitorStates::MonitorId)
                            .col(MonitorStates::LocationId),
                    )
                    .to_owned(),
                Table::create()
                    .table(StatusEvents::Table)
                    .col(big_pk_auto(StatusEvents::Id))
                    .col(string(StatusEvents::SubjectKind))
                    .col(string(StatusEvents::SubjectId))
                    .col(string_null(StatusEvents::LocationId))
                    .col(string_null(StatusEvents::FromStatus))
                    .col(string(StatusEvents::ToStatus))
                    .col(text_null(StatusEvents::Cause))
                    .col(timestamp_with_time_zone(StatusEvents::At))
                    .to_owned(),
            ],
        )
        .await?;
        create_index(
            manager,
            "idx_status_events_subject_time",
            StatusEvents::Table,
            [
                StatusEvents::SubjectKind,
                StatusEvents::SubjectId,
                StatusEvents::At,
            ],
        )
        .await?;
        create_tables(
            manager,
            [
                Table::create()
                    .table(CurrentStatuses::Table)
                    .col(string(CurrentStatuses::SubjectKind))
                    .col(string(CurrentStatuses::SubjectId))
                    .col(string(CurrentStatuses::Status))
                    .col(text_null(CurrentStatuses::Cause))
                    .col(timestamp_with_time_zone(CurrentStatuses::Since))
                    .col(timestamp_with_time_zone(CurrentStatuses::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(CurrentStatuses::SubjectKind)
                            .col(CurrentStatuses::SubjectId),
                    )
                    .to_owned(),
                Table::create()
                    .table(Rollups::Table)
                    .col(big_integer(Rollups::MonitorId))
                    .col(string(Rollups::LocationId))
                    .col(string(Rollups::Period))
                    .col(timestamp_with_time_zone(Rollups::BucketStart))
                    .col(big_integer(Rollups::UpMs))
                    .col(big_integer(Rollups::DegradedMs))
                    .col(big_integer(Rollups::DownMs))
                    .col(big_integer(Rollups::NoDataMs))
                    .col(integer(Rollups::Checks))
                    .col(text(Rollups::LatencyHistogram))
                    .col(integer_null(Rollups::LatencyP50Ms))
                    .col(integer_null(Rollups::LatencyP95Ms))
                    .col(integer_null(Rollups::LatencyMaxMs))
                    .primary_key(
                        Index::create()
                            .col(Rollups::MonitorId)
                            .col(Rollups::LocationId)
                            .col(Rollups::Period)
                            .col(Rollups::BucketStart),
                    )
                    .to_owned(),
            ],
        )
        .await?;
        // Retention deletes by age alone.
        create_index(
            manager,
            "idx_check_results_time",
            CheckResults::Table,
            [CheckResults::CheckedAt],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_check_results_time")
                    .table(CheckResults::Table)
                    .to_owned(),
            )
            .await?;
        drop_tables(
            manager,
            [
                Rollups::Table.into_iden(),
                CurrentStatuses::Table.into_iden(),
                StatusEvents::Table.into_iden(),
                MonitorStates::Table.into_iden(),
            ],
        )
        .await?;
        Ok(())
    }
}
