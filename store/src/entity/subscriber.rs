//! A confirmed e-mail address or webhook that receives notifications.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subscribers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `email` or `webhook`.
    pub kind: String,
    pub address: String,
    pub contact: Option<String>,
    pub language: String,
    /// JSON array of service ids; `None` for the whole page.
    pub services: Option<String>,
    pub created_by: Option<String>,
    pub created_at: DateTimeUtc,
    pub confirmed_at: Option<DateTimeUtc>,
    pub paused_at: Option<DateTimeUtc>,
    /// Failed deliveries in a row.
    pub failures: i32,
    pub delivered: i64,
    pub failed: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
