//! Which instance probes a monitor from a location (see `store::probe_leases`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "probe_leases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub location_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub monitor_id: i64,
    pub holder: Option<String>,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
