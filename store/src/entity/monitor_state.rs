//! The confirmed state of a monitor at one location, kept so confirmation survives a restart.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "monitor_states")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub monitor_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub location_id: String,
    /// `up`, `degraded`, `down`, or null before the first confirmation.
    pub confirmed: Option<String>,
    pub since: Option<DateTimeUtc>,
    pub candidate: Option<String>,
    pub streak: i32,
    pub last_outcome: Option<String>,
    pub last_at: Option<DateTimeUtc>,
    pub last_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
