//! On PostgreSQL, every write to what the public side shows sends a notification on the
//! `vigie_changes` channel, so each instance's change hub hears another instance's write at
//! once instead of at its next look (it keeps looking too). SQLite serves one instance: there
//! is nothing to tell, and nothing is created.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables whose writes change a public page.
const TABLES: [&str; 7] = [
    "status_events",
    "incidents",
    "incident_updates",
    "incident_services",
    "maintenances",
    "maintenance_services",
    "manual_statuses",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        db.execute_unprepared(
            "CREATE FUNCTION vigie_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN PERFORM pg_notify('vigie_changes', TG_TABLE_NAME); RETURN NULL; END $$",
        )
        .await?;
        for t in TABLES {
            db.execute_unprepared(&format!(
                "CREATE TRIGGER vigie_notify_{t} AFTER INSERT OR UPDATE OR DELETE ON {t} \
                 FOR EACH STATEMENT EXECUTE FUNCTION vigie_notify_change()"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        for t in TABLES {
            db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS vigie_notify_{t} ON {t}"))
                .await?;
        }
        db.execute_unprepared("DROP FUNCTION IF EXISTS vigie_notify_change()")
            .await?;
        Ok(())
    }
}
