//! The sending instance's lease: one instance at a time holds the `outbox` lease row and
//! sends; it renews the lease while it works and gives it up on a clean shutdown.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::entity::outbox_lease;
use crate::StoreError;

/// How taking the lease went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lease {
    /// Another instance holds it.
    Elsewhere,
    /// This holder already had it; renewed.
    Renewed,
    /// This holder has just taken it (from nobody, or from an instance that stopped renewing).
    Taken,
}

/// Takes or renews lease `name` for `holder` until `now + ttl`, if nobody else holds a live one.
pub async fn take_lease(
    db: &DatabaseConnection,
    name: &str,
    holder: &str,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<Lease, StoreError> {
    outbox_lease::Entity::insert(outbox_lease::ActiveModel {
        name: Set(name.to_owned()),
        holder: Set(String::new()),
        expires_at: Set(now - Duration::seconds(1)),
    })
    .on_conflict(
        OnConflict::column(outbox_lease::Column::Name)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    let renewed = outbox_lease::Entity::update_many()
        .col_expr(outbox_lease::Column::ExpiresAt, Expr::value(now + ttl))
        .filter(outbox_lease::Column::Name.eq(name))
        .filter(outbox_lease::Column::Holder.eq(holder))
        .filter(outbox_lease::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    if renewed.rows_affected == 1 {
        return Ok(Lease::Renewed);
    }
    let taken = outbox_lease::Entity::update_many()
        .col_expr(outbox_lease::Column::Holder, Expr::value(holder))
        .col_expr(outbox_lease::Column::ExpiresAt, Expr::value(now + ttl))
        .filter(outbox_lease::Column::Name.eq(name))
        .filter(outbox_lease::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    Ok(if taken.rows_affected == 1 {
        Lease::Taken
    } else {
        Lease::Elsewhere
    })
}

/// Gives the lease up (clean shutdown), so another instance takes over at once.
pub async fn release_lease(
    db: &DatabaseConnection,
    name: &str,
    holder: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    outbox_lease::Entity::update_many()
        .col_expr(
            outbox_lease::Column::ExpiresAt,
            Expr::value(now - Duration::seconds(1)),
        )
        .filter(outbox_lease::Column::Name.eq(name))
        .filter(outbox_lease::Column::Holder.eq(holder))
        .exec(db)
        .await?;
    Ok(())
}
