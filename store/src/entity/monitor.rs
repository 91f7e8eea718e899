//! A monitor of a service or a host (`[[services.monitors]]`, `[[hosts.monitors]]`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "monitors")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `service/<service id>/<monitor id>` or `host/<host id>/<monitor id>`: stable across restarts.
    #[sea_orm(unique)]
    pub key: String,
    pub service_id: Option<String>,
    pub host_id: Option<String>,
    pub kind: String,
    pub target: String,
    pub interval_ms: i64,
    pub timeout_ms: i64,
    pub retry_interval_ms: i64,
    pub confirm: i32,
    pub recover: i32,
    /// JSON array of location ids.
    pub locations: String,
    pub degraded_after_ms: Option<i64>,
    /// JSON object of the kind-specific settings.
    pub settings: String,
    pub archived_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
