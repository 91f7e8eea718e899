//! A result batch an agent sent and central stored (see `store::agents::ingest`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agent_batches")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub location_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub batch_id: String,
    pub received_at: DateTimeUtc,
    pub results: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
