//! HTTP probes' header values leave the database: they may be credentials (an
//! `Authorization`, an API key). Earlier versions copied them from the configuration file into
//! `monitors.settings`; from now on only the header names are stored (values empty) and the
//! probes take the values from the configuration in memory (`${env:NAME}` / `${file:PATH}`
//! read at start). This deletes the values already stored.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Monitors {
    Table,
    Id,
    Settings,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let select = Query::select()
            .columns([Monitors::Id, Monitors::Settings])
            .from(Monitors::Table)
            .and_where(Expr::col(Monitors::Settings).like("%\"headers\"%"))
            .to_owned();
        for row in db.query_all(&select).await? {
            let id: i64 = row.try_get_by_index(0)?;
            let settings: String = row.try_get_by_index(1)?;
            let Ok(serde_json::Value::Object(mut map)) = serde_json::from_str(&settings) else {
                continue;
            };
            let Some(serde_json::Value::Object(headers)) = map.get_mut("headers") else {
                continue;
            };
            for value in headers.values_mut() {
                *value = serde_json::Value::String(String::new());
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

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // The values are gone for good; the next start writes the names again.
        Ok(())
    }
}
