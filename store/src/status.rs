//! Current statuses of services and hosts, as the topology rollup computed them, and the
//! events that record each change with its cause.

use chrono::{DateTime, Utc};
use domain::config::Slug;
use domain::status::ServiceState;
use domain::topology::{Owner, StatusChange};
use std::collections::{HashMap, HashSet};

use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::entity::{current_status, status_event};
use crate::StoreError;

/// Rows per INSERT.
const CHUNK: usize = 500;

/// The stored current status of a service or host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentStatus {
    pub subject: Owner,
    pub state: ServiceState,
    /// e.g. `down: host phys-2 unreachable`.
    pub cause: Option<String>,
    pub since: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn kind_and_id(o: &Owner) -> (&'static str, &str) {
    match o {
        Owner::Service(s) => ("service", s.as_str()),
        Owner::Host(h) => ("host", h.as_str()),
    }
}

/// Records `changes` in one transaction: the new current statuses and one event each.
///
/// Several instances on one database may decide the same change at the same moment; it is
/// recorded once. The database decides, not a read made before the write: the upsert only
/// touches a row whose status or cause differs (`ON CONFLICT … DO UPDATE … WHERE`), returns
/// the rows it did touch, and only those get an event. On PostgreSQL the stored rows are read
/// `FOR UPDATE` first, so a second instance waits for the first to commit and its events name
/// the state it really replaces; on SQLite the write transaction is already exclusive.
#[tracing::instrument(skip_all, fields(n = changes.len()))]
pub async fn apply(db: &DatabaseConnection, changes: &[StatusChange]) -> Result<(), StoreError> {
    if changes.is_empty() {
        return Ok(());
    }
    let txn = crate::begin_write(db).await?;
    // What is stored now for the subjects that change (not every row: with 100,000 services
    // a few changes read 100,000 rows): a change another instance already recorded is not
    // recorded twice. Locked in one order by every instance, so two never deadlock.
    let mut stored: HashMap<(String, String), current_status::Model> = HashMap::new();
    for kind in ["host", "service"] {
        let mut ids: Vec<&str> = changes
            .iter()
            .map(|c| kind_and_id(&c.subject))
            .filter(|(k, _)| *k == kind)
            .map(|(_, id)| id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        // Under PostgreSQL's 65,535 bound parameters.
        for chunk in ids.chunks(10_000) {
            for r in current_status::Entity::find()
                .filter(current_status::Column::SubjectKind.eq(kind))
                .filter(current_status::Column::SubjectId.is_in(chunk.iter().copied()))
                .order_by_asc(current_status::Column::SubjectId)
                .lock_exclusive()
                .all(&txn)
                .await?
            {
                stored.insert((r.subject_kind.clone(), r.subject_id.clone()), r);
            }
        }
    }
    let mut rows: Vec<[Expr; 6]> = Vec::with_capacity(changes.len());
    let mut events = Vec::with_capacity(changes.len());
    for c in changes {
        let (kind, id) = kind_and_id(&c.subject);
        let old = stored.get(&(kind.to_owned(), id.to_owned()));
        if old.is_some_and(|o| o.status == c.to.css_class() && o.cause == c.cause) {
            continue;
        }
        // A new cause for the same state keeps the state's `since` (the upsert says it again,
        // for a row this read could not see yet).
        let since = match old {
            Some(o) if o.status == c.to.css_class() => o.since,
            _ => c.at,
        };
        rows.push([
            kind.into(),
            id.into(),
            c.to.css_class().into(),
            c.cause.clone().into(),
            since.into(),
            c.at.into(),
        ]);
        events.push((
            (kind.to_owned(), id.to_owned()),
            status_event::ActiveModel {
                subject_kind: Set(kind.to_owned()),
                subject_id: Set(id.to_owned()),
                location_id: Set(None),
                // The stored state is the truth when several instances write.
                from_status: Set(old
                    .map(|o| o.status.clone())
                    .or_else(|| c.from.map(|f| f.css_class().to_owned()))),
                to_status: Set(c.to.css_class().to_owned()),
                cause: Set(c.cause.clone()),
                at: Set(c.at),
                ..Default::default()
            },
        ));
    }
    if rows.is_empty() {
        return Ok(txn.commit().await?);
    }
    let on_conflict = OnConflict::columns([
        current_status::Column::SubjectKind,
        current_status::Column::SubjectId,
    ])
    .update_columns([
        current_status::Column::Status,
        current_status::Column::Cause,
        current_status::Column::UpdatedAt,
    ])
    .value(
        current_status::Column::Since,
        Expr::cust(
            r#"CASE WHEN "current_statuses"."status" = "excluded"."status" THEN "current_statuses"."since" ELSE "excluded"."since" END"#,
        ),
    )
    .action_and_where(Expr::cust(
        r#""current_statuses"."status" <> "excluded"."status" OR "current_statuses"."cause" IS DISTINCT FROM "excluded"."cause""#,
    ))
    .to_owned();
    let mut touched = HashSet::with_capacity(rows.len());
    // Chunks stay under SQLite's bound-parameter limit on a first start with many services.
    for chunk in rows.chunks(CHUNK) {
        let mut insert = Query::insert();
        insert
            .into_table(current_status::Entity)
            .columns([
                current_status::Column::SubjectKind,
                current_status::Column::SubjectId,
                current_status::Column::Status,
                current_status::Column::Cause,
                current_status::Column::Since,
                current_status::Column::UpdatedAt,
            ])
            .on_conflict(on_conflict.clone())
            .returning(Query::returning().columns([
                current_status::Column::SubjectKind,
                current_status::Column::SubjectId,
            ]));
        for r in chunk {
            insert
                .values(r.clone())
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        }
        for row in txn.query_all(&insert).await? {
            let kind: String = row.try_get_by_index(0)?;
            let id: String = row.try_get_by_index(1)?;
            touched.insert((kind, id));
        }
    }
    // Alerts and component updates for what this transaction really changed, decided before
    // its events are inserted (flapping counts the earlier ones).
    let moved: Vec<crate::alerts::Moved> = changes
        .iter()
        .filter(|c| {
            let (kind, id) = kind_and_id(&c.subject);
            touched.contains(&(kind.to_owned(), id.to_owned()))
        })
        .map(|c| {
            let (kind, id) = kind_and_id(&c.subject);
            let old = stored.get(&(kind.to_owned(), id.to_owned()));
            crate::alerts::Moved {
                subject: c.subject.clone(),
                from: old.and_then(|o| ServiceState::parse(&o.status)).or(c.from),
                to: c.to,
                old_cause: old.and_then(|o| o.cause.clone()),
                new_cause: c.cause.clone(),
            }
        })
        .collect();
    let at = changes.iter().map(|c| c.at).max().unwrap_or_else(Utc::now);
    crate::alerts::queue_for_changes(&txn, &moved, at).await?;
    // Only the rows this transaction really changed get an event, in the order decided.
    let recorded: Vec<status_event::ActiveModel> = events
        .into_iter()
        .filter(|(key, _)| touched.contains(key))
        .map(|(_, e)| e)
        .collect();
    for chunk in recorded.chunks(CHUNK) {
        status_event::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Records `changes` decided after the fact (late results replayed, `domain::late`) as events
/// at their own times, in the caller's transaction. The current statuses are not touched:
/// they follow fresh results only, and the live engine keeps them. No alert is queued: the
/// news is old. A `no_data` event of the same subject within `replaced` (inclusive) is
/// removed first: it said central did not know, and the late results now say what it was.
///
/// The history is merged, never doubled: a change to the state the history already holds at
/// that time (the live engine heard of it from elsewhere) is not recorded again, and the event
/// that follows a recorded one now says it comes from the replayed state.
pub(crate) async fn record_past<C: ConnectionTrait>(
    txn: &C,
    changes: &[StatusChange],
    replaced: (DateTime<Utc>, DateTime<Utc>),
) -> Result<(), StoreError> {
    if changes.is_empty() {
        return Ok(());
    }
    let subjects: HashSet<(&'static str, &str)> =
        changes.iter().map(|c| kind_and_id(&c.subject)).collect();
    for (kind, id) in &subjects {
        status_event::Entity::delete_many()
            .filter(status_event::Column::SubjectKind.eq(*kind))
            .filter(status_event::Column::SubjectId.eq(*id))
            .filter(status_event::Column::ToStatus.eq(ServiceState::NoData.css_class()))
            .filter(status_event::Column::At.gte(replaced.0))
            .filter(status_event::Column::At.lte(replaced.1))
            .exec(txn)
            .await?;
    }
    let mut ordered: Vec<&StatusChange> = changes.iter().collect();
    ordered.sort_by_key(|c| c.at);
    // One subject's few changes at a time: a handful of small queries each.
    for c in ordered {
        let (kind, id) = kind_and_id(&c.subject);
        let of_subject = || {
            status_event::Entity::find()
                .filter(status_event::Column::SubjectKind.eq(kind))
                .filter(status_event::Column::SubjectId.eq(id))
        };
        let before = of_subject()
            .filter(status_event::Column::At.lte(c.at))
            .order_by_desc(status_event::Column::At)
            .order_by_desc(status_event::Column::Id)
            .one(txn)
            .await?;
        let to = c.to.css_class();
        if before.as_ref().is_some_and(|b| b.to_status == to) {
            continue;
        }
        status_event::Entity::insert(status_event::ActiveModel {
            subject_kind: Set(kind.to_owned()),
            subject_id: Set(id.to_owned()),
            location_id: Set(None),
            from_status: Set(before
                .map(|b| b.to_status)
                .or_else(|| c.from.map(|f| f.css_class().to_owned()))),
            to_status: Set(to.to_owned()),
            cause: Set(c.cause.clone()),
            at: Set(c.at),
            ..Default::default()
        })
        .exec_without_returning(txn)
        .await?;
        if let Some(next) = of_subject()
            .filter(status_event::Column::At.gt(c.at))
            .order_by_asc(status_event::Column::At)
            .order_by_asc(status_event::Column::Id)
            .one(txn)
            .await?
        {
            if next.from_status.as_deref() != Some(to) {
                status_event::Entity::update_many()
                    .col_expr(status_event::Column::FromStatus, Expr::value(to))
                    .filter(status_event::Column::Id.eq(next.id))
                    .exec(txn)
                    .await?;
            }
        }
    }
    Ok(())
}

/// Every stored current status.
pub async fn current(db: &DatabaseConnection) -> Result<Vec<CurrentStatus>, StoreError> {
    current_status::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| {
            let slug = Slug::parse(&r.subject_id).map_err(StoreError::Corrupt)?;
            let subject = match r.subject_kind.as_str() {
                "service" => Owner::Service(slug),
                "host" => Owner::Host(slug),
                other => {
                    return Err(StoreError::Corrupt(format!(
                        "current status of unknown kind {other:?}"
                    )))
                }
            };
            let state = ServiceState::parse(&r.status).ok_or_else(|| {
                StoreError::Corrupt(format!("current status {:?} is unknown", r.status))
            })?;
            Ok(CurrentStatus {
                subject,
                state,
                cause: r.cause,
                since: r.since,
                updated_at: r.updated_at,
            })
        })
        .collect()
}

/// Status events of one service or host, oldest first.
pub async fn events(
    db: &DatabaseConnection,
    subject: &Owner,
) -> Result<Vec<status_event::Model>, StoreError> {
    let (kind, id) = kind_and_id(subject);
    Ok(status_event::Entity::find()
        .filter(status_event::Column::SubjectKind.eq(kind))
        .filter(status_event::Column::SubjectId.eq(id))
        .order_by_asc(status_event::Column::At)
        .order_by_asc(status_event::Column::Id)
        .all(db)
        .await?)
}
