//! A service readers see (`[[services]]`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "services")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    pub group_id: String,
    pub host_id: Option<String>,
    pub description: Option<String>,
    pub url: Option<String>,
    /// JSON array of `{"service": id, "hard": bool}`.
    pub depends_on: String,
    pub position: i32,
    pub created_at: DateTimeUtc,
    pub archived_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
