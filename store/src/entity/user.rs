//! A staff member who signs in to the console.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub email: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// `admin` or `editor`.
    pub role: String,
    pub created_at: DateTimeUtc,
    pub password_changed_at: DateTimeUtc,
    pub disabled_at: Option<DateTimeUtc>,
    /// The TOTP secret of a confirmed second factor, sealed with the instance key
    /// (`crate::instance_key`; older versions stored it in clear, sealed at start).
    pub totp_secret: Option<String>,
    /// The TOTP secret being enrolled, sealed the same way, until a first code confirms it.
    pub totp_pending: Option<String>,
    /// The last TOTP time step accepted: a code is good once.
    pub totp_last_step: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
