//! One update of an incident, its Markdown and the sanitised HTML rendered at write time.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incident_updates")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub incident_id: i64,
    pub status: String,
    pub message_md: String,
    pub message_html: String,
    /// JSON object `{service_id: status}` of the statuses this update set.
    pub service_statuses: String,
    pub created_at: DateTimeUtc,
    pub edited_at: Option<DateTimeUtc>,
    /// JSON array of earlier Markdown texts, oldest first (edit history).
    pub previous_md: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
