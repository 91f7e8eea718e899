//! A remote probe agent's token, scoped to one location (see `store::tokens::agent`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agent_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub location_id: String,
    pub label: String,
    /// Hex SHA-256 of the token: the value itself is shown once and never stored.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// The first characters, so staff can tell tokens apart.
    pub prefix: String,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
