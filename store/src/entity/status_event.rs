//! A status change of a monitor (per location), a service or a host, with its cause.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "status_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `monitor`, `service` or `host`.
    pub subject_kind: String,
    /// The monitor key, service id or host id.
    pub subject_id: String,
    /// The location, for monitor events.
    pub location_id: Option<String>,
    pub from_status: Option<String>,
    pub to_status: String,
    pub cause: Option<String>,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
