//! The newest heartbeat of a push monitor, shared by every instance (see `store::push`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "push_beats")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub monitor_id: i64,
    pub waiting_since: DateTimeUtc,
    pub beat_at: Option<DateTimeUtc>,
    /// `up`, `degraded` or `down`.
    pub outcome: Option<String>,
    pub latency_ms: Option<i64>,
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
