//! A service covered by a maintenance window.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "maintenance_services")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub maintenance_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_id: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
