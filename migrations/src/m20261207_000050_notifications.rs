//! Notifications: subscribers (e-mail addresses and webhooks), the outbox (one row per event
//! to announce, queued in the same transaction as the change that causes it, then one row per
//! message to deliver, each with its own state), the lease that lets one instance at a time
//! send, and the instance key that signs subscription links and webhook payloads.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum NotifyKeys {
    Table,
    Name,
    Value,
}

#[derive(DeriveIden)]
enum Subscribers {
    Table,
    Id,
    /// `email` or `webhook`.
    Kind,
    /// The e-mail address or the webhook's URL.
    Address,
    /// For a webhook a reader created: the address that confirmed it.
    Contact,
    Language,
    /// JSON array of service ids; NULL for the whole page.
    Services,
    /// The staff member who created it, NULL for readers.
    CreatedBy,
    CreatedAt,
    ConfirmedAt,
    /// Webhooks stop being called after too many failures in a row, until staff resume them.
    PausedAt,
    Failures,
    Delivered,
    Failed,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    /// `incident_update`, `maintenance_scheduled`, `maintenance_started`,
    /// `maintenance_completed`, `alert`.
    Kind,
    /// What the messages say, captured when the change was written (JSON).
    Payload,
    /// JSON array of the service ids it touches.
    Services,
    CreatedAt,
    /// When one delivery per recipient was queued for it.
    FannedOutAt,
}

#[derive(DeriveIden)]
enum Deliveries {
    Table,
    Id,
    NotificationId,
    SubscriberId,
    /// `email`, `webhook` or `alert`.
    Channel,
    /// An e-mail address, a URL or an alert channel's name.
    Recipient,
    /// `confirm`, `event` or `alert`.
    Kind,
    /// What a message without a notification says (JSON).
    Payload,
    /// `pending`, `sending`, `sent`, `failed`, `unknown` (an instance stopped while sending:
    /// never sent again) or `cancelled`.
    State,
    Attempts,
    NextAttemptAt,
    LastError,
    ResponseCode,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum OutboxLeases {
    Table,
    Name,
    Holder,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_tables(
            manager,
            [
                Table::create()
                    .table(NotifyKeys::Table)
                    .col(string(NotifyKeys::Name).primary_key())
                    .col(text(NotifyKeys::Value))
                    .to_owned(),
                Table::create()
                    .table(Subscribers::Table)
                    .col(big_pk_auto(Subscribers::Id))
                    .col(string(Subscribers::Kind))
                    .col(text(Subscribers::Address))
                    .col(text_null(Subscribers::Contact))
                    .col(string(Subscribers::Language))
                    .col(text_null(Subscribers::Services))
                    .col(text_null(Subscribers::CreatedBy))
                    .col(timestamp_with_time_zone(Subscribers::CreatedAt))
                    .col(timestamp_with_time_zone_null(Subscribers::ConfirmedAt))
                    .col(timestamp_with_time_zone_null(Subscribers::PausedAt))
                    .col(integer(Subscribers::Failures).default(0))
                    .col(big_integer(Subscribers::Delivered).default(0))
                    .col(big_integer(Subscribers::Failed).default(0))
                    .to_owned(),
            ],
        )
        .await?;
        create_unique_index(
            manager,
            "idx_subscribers_kind_address",
            Subscribers::Table,
            [Subscribers::Kind, Subscribers::Address],
        )
        .await?;
        create_tables(
            manager,
            [
                Table::create()
                    .table(Notifications::Table)
                    .col(big_pk_auto(Notifications::Id))
                    .col(string(Notifications::Kind))
                    .col(text(Notifications::Payload))
                    .col(text(Notifications::Services))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .col(timestamp_with_time_zone_null(Notifications::FannedOutAt))
                    .to_owned(),
                Table::create()
                    .table(Deliveries::Table)
                    .col(big_pk_auto(Deliveries::Id))
                    .col(big_integer_null(Deliveries::NotificationId))
                    .col(big_integer_null(Deliveries::SubscriberId))
                    .col(string(Deliveries::Channel))
                    .col(text(Deliveries::Recipient))
                    .col(string(Deliveries::Kind))
                    .col(text(Deliveries::Payload))
                    .col(string(Deliveries::State))
                    .col(integer(Deliveries::Attempts).default(0))
                    .col(timestamp_with_time_zone(Deliveries::NextAttemptAt))
                    .col(text_null(Deliveries::LastError))
                    .col(integer_null(Deliveries::ResponseCode))
                    .col(timestamp_with_time_zone(Deliveries::CreatedAt))
                    .col(timestamp_with_time_zone_null(Deliveries::SentAt))
                    .foreign_key(&mut foreign_key_cascade(
                        "fk_deliveries_notification",
                        (Deliveries::Table, Deliveries::NotificationId),
                        (Notifications::Table, Notifications::Id),
                    ))
                    .foreign_key(&mut foreign_key_cascade(
                        "fk_deliveries_subscriber",
                        (Deliveries::Table, Deliveries::SubscriberId),
                        (Subscribers::Table, Subscribers::Id),
                    ))
                    .to_owned(),
            ],
        )
        .await?;
        create_index(
            manager,
            "idx_deliveries_due",
            Deliveries::Table,
            [Deliveries::State, Deliveries::NextAttemptAt],
        )
        .await?;
        create_index(
            manager,
            "idx_deliveries_subscriber",
            Deliveries::Table,
            [Deliveries::SubscriberId],
        )
        .await?;
        create_index(
            manager,
            "idx_deliveries_sent_at",
            Deliveries::Table,
            [Deliveries::SentAt],
        )
        .await?;
        create_tables(
            manager,
            [Table::create()
                .table(OutboxLeases::Table)
                .col(string(OutboxLeases::Name).primary_key())
                .col(text(OutboxLeases::Holder))
                .col(timestamp_with_time_zone(OutboxLeases::ExpiresAt))
                .to_owned()],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Deliveries::Table.into_iden(),
            Notifications::Table.into_iden(),
            Subscribers::Table.into_iden(),
            OutboxLeases::Table.into_iden(),
            NotifyKeys::Table.into_iden(),
        ] {
            drop_tables(manager, [t.into_iden()]).await?;
        }
        Ok(())
    }
}
