//! The SHA-256 of a push monitor's token (see `store::push`): the token itself is never kept.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "push_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub monitor_id: i64,
    /// Hex SHA-256 of the token.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// `generated` (by Vigie, shown once) or `config` (read from `${env:…}` / `${file:…}`).
    pub origin: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
