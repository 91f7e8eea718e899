//! Incident drafts the probe engine proposes to staff when services stay in `major_outage`:
//! one draft per outage episode of a service, never published by itself.
//!
//! `incident_draft_services` is keyed by (service, since): the `since` of the service's
//! `major_outage` identifies the episode, so a service is proposed once per episode even with
//! several instances on one database (the second insert hits the primary key).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IncidentDrafts {
    Table,
    Id,
    /// `proposed`, `opened` (staff made an incident of it) or `dismissed`.
    Status,
    /// The earliest `since` of its services' outages.
    Since,
    CreatedAt,
    DecidedAt,
    DecidedBy,
    IncidentId,
}

#[derive(DeriveIden)]
enum IncidentDraftServices {
    Table,
    DraftId,
    ServiceId,
    Since,
    Cause,
}

#[derive(DeriveIden)]
enum Services {
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
                    .table(IncidentDrafts::Table)
                    .col(big_pk_auto(IncidentDrafts::Id))
                    .col(string(IncidentDrafts::Status))
                    .col(timestamp_with_time_zone(IncidentDrafts::Since))
                    .col(timestamp_with_time_zone(IncidentDrafts::CreatedAt))
                    .col(timestamp_with_time_zone_null(IncidentDrafts::DecidedAt))
                    .col(text_null(IncidentDrafts::DecidedBy))
                    .col(big_integer_null(IncidentDrafts::IncidentId))
                    .to_owned(),
                Table::create()
                    .table(IncidentDraftServices::Table)
                    .col(big_integer(IncidentDraftServices::DraftId))
                    .col(string(IncidentDraftServices::ServiceId))
                    .col(timestamp_with_time_zone(IncidentDraftServices::Since))
                    .col(text_null(IncidentDraftServices::Cause))
                    .primary_key(
                        Index::create()
                            .col(IncidentDraftServices::ServiceId)
                            .col(IncidentDraftServices::Since),
                    )
                    .foreign_key(&mut foreign_key_cascade(
                        "fk_incident_draft_services_draft",
                        (IncidentDraftServices::Table, IncidentDraftServices::DraftId),
                        (IncidentDrafts::Table, IncidentDrafts::Id),
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_incident_draft_services_service",
                        (
                            IncidentDraftServices::Table,
                            IncidentDraftServices::ServiceId,
                        ),
                        (Services::Table, Services::Id),
                    ))
                    .to_owned(),
            ],
        )
        .await?;
        create_index(
            manager,
            "idx_incident_draft_services_draft",
            IncidentDraftServices::Table,
            [IncidentDraftServices::DraftId],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
                IncidentDraftServices::Table.into_iden(),
                IncidentDrafts::Table.into_iden(),
            ],
        )
        .await?;
        Ok(())
    }
}
