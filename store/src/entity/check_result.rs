//! One raw probe result, kept `retention.raw_days`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "check_results")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub monitor_id: i64,
    pub location_id: String,
    pub checked_at: DateTimeUtc,
    /// `up`, `degraded` or `down`.
    pub outcome: String,
    pub latency_ms: Option<i32>,
    pub status_code: Option<i32>,
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
