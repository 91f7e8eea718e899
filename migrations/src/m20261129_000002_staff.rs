//! Staff's side: users, their sessions, API tokens, the audit log, incidents with their
//! updates and affected services, maintenance windows, and statuses set by hand.
//!
//! Secrets are never stored in clear: sessions and API tokens are keyed by the SHA-256 of the
//! random value the client holds; passwords are argon2id PHC strings.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    PasswordHash,
    Role,
    CreatedAt,
    PasswordChangedAt,
    DisabledAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    CsrfToken,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
    Ip,
    UserAgent,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    Name,
    TokenHash,
    Prefix,
    Scopes,
    UserId,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    At,
    ActorKind,
    ActorId,
    ActorLabel,
    Action,
    TargetKind,
    TargetId,
    Ip,
    Details,
}

#[derive(DeriveIden)]
enum Incidents {
    Table,
    Id,
    Title,
    Status,
    Impact,
    Notify,
    StartedAt,
    ResolvedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IncidentUpdates {
    Table,
    Id,
    IncidentId,
    Status,
    MessageMd,
    MessageHtml,
    ServiceStatuses,
    CreatedAt,
    EditedAt,
    PreviousMd,
}

#[derive(DeriveIden)]
enum IncidentServices {
    Table,
    IncidentId,
    ServiceId,
    Status,
}

#[derive(DeriveIden)]
enum Maintenances {
    Table,
    Id,
    Title,
    MessageMd,
    MessageHtml,
    Status,
    StartsAt,
    EndsAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MaintenanceServices {
    Table,
    MaintenanceId,
    ServiceId,
}

#[derive(DeriveIden)]
enum ManualStatuses {
    Table,
    ServiceId,
    Status,
    Note,
    SetAt,
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
                    .table(Users::Table)
                    .col(big_pk_auto(Users::Id))
                    .col(string_uniq(Users::Email))
                    .col(text(Users::PasswordHash))
                    .col(string(Users::Role))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::PasswordChangedAt))
                    .col(timestamp_with_time_zone_null(Users::DisabledAt))
                    .to_owned(),
                Table::create()
                    .table(Sessions::Table)
                    .col(string(Sessions::Id).primary_key())
                    .col(big_integer(Sessions::UserId))
                    .col(string(Sessions::CsrfToken))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .col(string_null(Sessions::Ip))
                    .col(text_null(Sessions::UserAgent))
                    .foreign_key(&mut foreign_key_cascade(
                        "fk_sessions_user",
                        (Sessions::Table, Sessions::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
                Table::create()
                    .table(ApiTokens::Table)
                    .col(big_pk_auto(ApiTokens::Id))
                    .col(string(ApiTokens::Name))
                    .col(string_uniq(ApiTokens::TokenHash))
                    .col(string(ApiTokens::Prefix))
                    .col(text(ApiTokens::Scopes))
                    .col(big_integer(ApiTokens::UserId))
                    .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::LastUsedAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::RevokedAt))
                    .foreign_key(&mut foreign_key_cascade(
                        "fk_api_tokens_user",
                        (ApiTokens::Table, ApiTokens::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
                Table::create()
                    .table(AuditEvents::Table)
                    .col(big_pk_auto(AuditEvents::Id))
                    .col(timestamp_with_time_zone(AuditEvents::At))
                    .col(string(AuditEvents::ActorKind))
                    .col(big_integer_null(AuditEvents::ActorId))
                    .col(string(AuditEvents::ActorLabel))
                    .col(string(AuditEvents::Action))
                    .col(string_null(AuditEvents::TargetKind))
                    .col(string_null(AuditEvents::TargetId))
                    .col(string_null(AuditEvents::Ip))
                    .col(text(AuditEvents::Details))
                    .to_owned(),
            ],
        )
        .await?;
        create_index(
            manager,
            "idx_audit_events_at",
            AuditEvents::Table,
            [AuditEvents::At],
        )
        .await?;
        create_tables(
            manager,
            [
                Table::create()
                    .table(Incidents::Table)
                    .col(big_pk_auto(Incidents::Id))
                    .col(text(Incidents::Title))
                    .col(string(Incidents::Status))
                    .col(string(Incidents::Impact))
                    .col(boolean(Incidents::Notify))
                    .col(timestamp_with_time_zone(Incidents::StartedAt))
                    .col(timestamp_with_time_zone_null(Incidents::ResolvedAt))
                    .col(timestamp_with_time_zone(Incidents::CreatedAt))
                    .col(timestamp_with_time_zone(Incidents::UpdatedAt))
                    .to_owned(),
                Table::create()
                    .table(IncidentUpdates::Table)
                    .col(big_pk_auto(IncidentUpdates::Id))
                    .col(big_integer(IncidentUpdates::IncidentId))
                    .col(string(IncidentUpdates::Status))
                    .col(text(IncidentUpdates::MessageMd))
                    .col(text(IncidentUpdates::MessageHtml))
                    .col(text(IncidentUpdates::ServiceStatuses))
                    .col(timestamp_with_time_zone(IncidentUpdates::CreatedAt))
                    .col(timestamp_with_time_zone_null(IncidentUpdates::EditedAt))
                    .col(text(IncidentUpdates::PreviousMd))
                    .foreign_key(&mut foreign_key_cascade(
                        "fk_incident_updates_incident",
                        (IncidentUpdates::Table, IncidentUpdates::IncidentId),
                        (Incidents::Table, Incidents::Id),
                    ))
                    .to_owned(),
            ],
        )
        .await?;
        create_index(
            manager,
            "idx_incident_updates_incident",
            IncidentUpdates::Table,
            [IncidentUpdates::IncidentId],
        )
        .await?;
        create_tables(
            manager,
            [
                Table::create()
                    .table(IncidentServices::Table)
                    .col(big_integer(IncidentServices::IncidentId))
                    .col(string(IncidentServices::ServiceId))
                    .col(string(IncidentServices::Status))
                    .primary_key(
                        Index::create()
                            .col(IncidentServices::IncidentId)
                            .col(IncidentServices::ServiceId),
                    )
                    .foreign_key(&mut foreign_key_cascade(
                        "fk_incident_services_incident",
                        (IncidentServices::Table, IncidentServices::IncidentId),
                        (Incidents::Table, Incidents::Id),
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_incident_services_service",
                        (IncidentServices::Table, IncidentServices::ServiceId),
                        (Services::Table, Services::Id),
                    ))
                    .to_owned(),
                Table::create()
                    .table(Maintenances::Table)
                    .col(big_pk_auto(Maintenances::Id))
                    .col(text(Maintenances::Title))
                    .col(text(Maintenances::MessageMd))
                    .col(text(Maintenances::MessageHtml))
                    .col(string(Maintenances::Status))
                    .col(timestamp_with_time_zone(Maintenances::StartsAt))
                    .col(timestamp_with_time_zone(Maintenances::EndsAt))
                    .col(timestamp_with_time_zone(Maintenances::CreatedAt))
                    .col(timestamp_with_time_zone(Maintenances::UpdatedAt))
                    .to_owned(),
                Table::create()
                    .table(MaintenanceServices::Table)
                    .col(big_integer(MaintenanceServices::MaintenanceId))
                    .col(string(MaintenanceServices::ServiceId))
                    .primary_key(
                        Index::create()
                            .col(MaintenanceServices::MaintenanceId)
                            .col(MaintenanceServices::ServiceId),
                    )
                    .foreign_key(&mut foreign_key_cascade(
                        "fk_maintenance_services_maintenance",
                        (
                            MaintenanceServices::Table,
                            MaintenanceServices::MaintenanceId,
                        ),
                        (Maintenances::Table, Maintenances::Id),
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_maintenance_services_service",
                        (MaintenanceServices::Table, MaintenanceServices::ServiceId),
                        (Services::Table, Services::Id),
                    ))
                    .to_owned(),
                Table::create()
                    .table(ManualStatuses::Table)
                    .col(string(ManualStatuses::ServiceId).primary_key())
                    .col(string(ManualStatuses::Status))
                    .col(text_null(ManualStatuses::Note))
                    .col(timestamp_with_time_zone(ManualStatuses::SetAt))
                    .foreign_key(&mut foreign_key(
                        "fk_manual_statuses_service",
                        (ManualStatuses::Table, ManualStatuses::ServiceId),
                        (Services::Table, Services::Id),
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
                ManualStatuses::Table.into_iden(),
                MaintenanceServices::Table.into_iden(),
                Maintenances::Table.into_iden(),
                IncidentServices::Table.into_iden(),
                IncidentUpdates::Table.into_iden(),
                Incidents::Table.into_iden(),
                AuditEvents::Table.into_iden(),
                ApiTokens::Table.into_iden(),
                Sessions::Table.into_iden(),
                Users::Table.into_iden(),
            ],
        )
        .await?;
        Ok(())
    }
}
