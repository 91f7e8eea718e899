//! Remote probe agents: one token per agent, scoped to one catalog location (stored as its
//! SHA-256, revocable), and the ids of the result batches already stored, so a batch sent
//! again (the answer was lost) is acknowledged and stored once.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AgentTokens {
    Table,
    Id,
    LocationId,
    Label,
    TokenHash,
    Prefix,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AgentBatches {
    Table,
    LocationId,
    BatchId,
    ReceivedAt,
    Results,
}

#[derive(DeriveIden)]
enum Locations {
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
                    .table(AgentTokens::Table)
                    .col(big_pk_auto(AgentTokens::Id))
                    .col(string(AgentTokens::LocationId))
                    .col(string(AgentTokens::Label))
                    .col(string_uniq(AgentTokens::TokenHash))
                    .col(string(AgentTokens::Prefix))
                    .col(timestamp_with_time_zone(AgentTokens::CreatedAt))
                    .col(timestamp_with_time_zone_null(AgentTokens::LastUsedAt))
                    .col(timestamp_with_time_zone_null(AgentTokens::RevokedAt))
                    .foreign_key(&mut foreign_key(
                        "fk_agent_tokens_location",
                        (AgentTokens::Table, AgentTokens::LocationId),
                        (Locations::Table, Locations::Id),
                    ))
                    .to_owned(),
                Table::create()
                    .table(AgentBatches::Table)
                    .col(string(AgentBatches::LocationId))
                    .col(string(AgentBatches::BatchId))
                    .col(timestamp_with_time_zone(AgentBatches::ReceivedAt))
                    .col(integer(AgentBatches::Results))
                    .primary_key(
                        Index::create()
                            .col(AgentBatches::LocationId)
                            .col(AgentBatches::BatchId),
                    )
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
                AgentBatches::Table.into_iden(),
                AgentTokens::Table.into_iden(),
            ],
        )
        .await?;
        Ok(())
    }
}
