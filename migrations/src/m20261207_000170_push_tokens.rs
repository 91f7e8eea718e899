//! Push tokens leave the monitors' settings: the `push_tokens` table keeps one SHA-256 per push
//! monitor (a token Vigie generated, or one read from `${env:NAME}` / `${file:PATH}`), and the
//! clear tokens that earlier versions copied from the configuration file into
//! `monitors.settings` are deleted. Nothing readable is kept: a deployment that had a token in
//! its file moves it to the environment or a file, or has a new one generated (docs/security.md).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PushTokens {
    Table,
    MonitorId,
    TokenHash,
    Origin,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Monitors {
    Table,
    Id,
    Kind,
    Settings,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_tables(
            manager,
            [Table::create()
                .table(PushTokens::Table)
                .col(big_integer(PushTokens::MonitorId).primary_key())
                .col(string_uniq(PushTokens::TokenHash))
                .col(string(PushTokens::Origin))
                .col(timestamp_with_time_zone(PushTokens::CreatedAt))
                .foreign_key(&mut foreign_key(
                    "fk_push_tokens_monitor",
                    (PushTokens::Table, PushTokens::MonitorId),
                    (Monitors::Table, Monitors::Id),
                ))
                .to_owned()],
        )
        .await?;
        strip_clear_tokens(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The clear tokens are gone for good: only the table goes.
        drop_tables(manager, [PushTokens::Table.into_iden()]).await
    }
}

/// Deletes `token` from the settings of every push monitor.
async fn strip_clear_tokens(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let select = Query::select()
        .columns([Monitors::Id, Monitors::Settings])
        .from(Monitors::Table)
        .and_where(Expr::col(Monitors::Kind).eq("push"))
        .to_owned();
    for row in db.query_all(&select).await? {
        let id: i64 = row.try_get_by_index(0)?;
        let settings: String = row.try_get_by_index(1)?;
        let Ok(serde_json::Value::Object(mut map)) = serde_json::from_str(&settings) else {
            continue;
        };
        if map.remove("token").is_none() {
            continue;
        }
        let update = Query::update()
            .table(Monitors::Table)
            .value(
                Monitors::Settings,
                serde_json::Value::Object(map).to_string(),
            )
            .and_where(Expr::col(Monitors::Id).eq(id))
            .to_owned();
        db.execute(&update).await?;
    }
    Ok(())
}
