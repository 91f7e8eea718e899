//! An incident the probe engine proposes to staff after a long `major_outage`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incident_drafts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `proposed`, `opened` or `dismissed`.
    pub status: String,
    pub since: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub decided_at: Option<DateTimeUtc>,
    /// The staff member who opened or dismissed it.
    pub decided_by: Option<String>,
    pub incident_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
