//! Incident drafts: when services stay in `major_outage` for a while and no open incident
//! names them, Vigie proposes one draft to staff (never a published incident). Staff open it
//! as an incident, prefilled, or dismiss it.
//!
//! An outage episode of a service is identified by the `since` of its `major_outage`
//! (`current_statuses.since`), which is the key of `incident_draft_services`: each episode is
//! proposed once, even by several instances sharing the database.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use domain::status::ComponentStatus;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, SqlErr,
};
use serde_json::json;

use crate::audit::{self, Actor, WriteError};
use crate::entity::{current_status, incident_draft, incident_draft_service};
use crate::StoreError;

/// What became of a draft.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DraftStatus {
    Proposed,
    /// Staff made an incident of it.
    Opened,
    Dismissed,
}

impl DraftStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DraftStatus::Proposed => "proposed",
            DraftStatus::Opened => "opened",
            DraftStatus::Dismissed => "dismissed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            DraftStatus::Proposed,
            DraftStatus::Opened,
            DraftStatus::Dismissed,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// A service in a draft: down since `since`, for `cause`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DraftService {
    pub id: String,
    pub name: String,
    pub since: DateTime<Utc>,
    /// Why it is down, as the engine stored it (host phys-2 unreachable…).
    pub cause: Option<domain::topology::Cause>,
}

/// A proposed (or decided) incident draft.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draft {
    pub id: i64,
    pub status: DraftStatus,
    /// The earliest outage start among its services.
    pub since: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub incident_id: Option<i64>,
    /// Ordered by name.
    pub services: Vec<DraftService>,
}

/// Proposes a draft for the services in `major_outage` for at least `after` at `now` that no
/// open incident names and no draft holds for this outage. Returns the new draft, if any; one
/// draft gathers every such service (a host cut takes several down at once).
#[tracing::instrument(skip(db))]
pub async fn propose(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    after: Duration,
) -> Result<Option<Draft>, StoreError> {
    let down: Vec<current_status::Model> = current_status::Entity::find()
        .filter(current_status::Column::SubjectKind.eq("service"))
        .filter(current_status::Column::Status.eq(ComponentStatus::MajorOutage.as_str()))
        .filter(current_status::Column::Since.lte(now - after))
        .all(db)
        .await?;
    if down.is_empty() {
        return Ok(None);
    }
    // The services open incidents name: staff already said what is going on there.
    let in_incident = super::read::stated_statuses(db).await?;
    let drafted: HashSet<(String, DateTime<Utc>)> = incident_draft_service::Entity::find()
        .filter(
            incident_draft_service::Column::ServiceId
                .is_in(down.iter().map(|d| d.subject_id.clone())),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.service_id, r.since))
        .collect();
    let fresh: Vec<current_status::Model> = down
        .into_iter()
        .filter(|d| !in_incident.contains_key(&d.subject_id))
        .filter(|d| !drafted.contains(&(d.subject_id.clone(), d.since)))
        .collect();
    let Some(since) = fresh.iter().map(|d| d.since).min() else {
        return Ok(None);
    };

    let txn = crate::begin_write(db).await?;
    let draft = incident_draft::Entity::insert(incident_draft::ActiveModel {
        status: Set(DraftStatus::Proposed.as_str().to_owned()),
        since: Set(since),
        created_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let rows: Vec<incident_draft_service::ActiveModel> = fresh
        .iter()
        .map(|d| incident_draft_service::ActiveModel {
            service_id: Set(d.subject_id.clone()),
            since: Set(d.since),
            draft_id: Set(draft.last_insert_id),
            cause: Set(d.cause.clone()),
        })
        .collect();
    match incident_draft_service::Entity::insert_many(rows)
        .exec_without_returning(&txn)
        .await
    {
        Ok(_) => {}
        // Another instance proposed the same outage first: nothing to add.
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            txn.rollback().await?;
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    }
    let named: Vec<(String, Option<String>)> = fresh
        .iter()
        .map(|d| (d.subject_id.clone(), d.cause.clone()))
        .collect();
    crate::alerts::queue_draft(&txn, draft.last_insert_id, &named, now).await?;
    audit::record(
        &txn,
        &Actor::system(),
        "incident_draft.proposed",
        Some(("incident_draft", draft.last_insert_id.to_string())),
        json!({ "services": fresh.iter().map(|d| d.subject_id.as_str()).collect::<Vec<_>>() }),
        now,
    )
    .await?;
    txn.commit().await?;
    get(db, draft.last_insert_id).await
}

/// Drafts waiting for staff, newest first.
pub async fn proposed(db: &DatabaseConnection) -> Result<Vec<Draft>, StoreError> {
    let rows = incident_draft::Entity::find()
        .filter(incident_draft::Column::Status.eq(DraftStatus::Proposed.as_str()))
        .order_by_desc(incident_draft::Column::CreatedAt)
        .order_by_desc(incident_draft::Column::Id)
        .all(db)
        .await?;
    with_services(db, rows).await
}

/// One draft, whatever became of it.
pub async fn get(db: &DatabaseConnection, id: i64) -> Result<Option<Draft>, StoreError> {
    let rows = incident_draft::Entity::find_by_id(id).all(db).await?;
    Ok(with_services(db, rows).await?.pop())
}

async fn with_services(
    db: &DatabaseConnection,
    rows: Vec<incident_draft::Model>,
) -> Result<Vec<Draft>, StoreError> {
    let names = crate::feeds::service_names(db).await?;
    let mut services: HashMap<i64, Vec<DraftService>> = HashMap::new();
    for s in incident_draft_service::Entity::find()
        .filter(incident_draft_service::Column::DraftId.is_in(rows.iter().map(|r| r.id)))
        .all(db)
        .await?
    {
        services.entry(s.draft_id).or_default().push(DraftService {
            name: names
                .get(&s.service_id)
                .cloned()
                .unwrap_or_else(|| s.service_id.clone()),
            id: s.service_id,
            since: s.since,
            cause: s
                .cause
                .as_deref()
                .and_then(domain::topology::Cause::from_stored),
        });
    }
    rows.into_iter()
        .map(|r| {
            let status = DraftStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Corrupt(format!("draft {}: {}", r.id, r.status)))?;
            let mut services = services.remove(&r.id).unwrap_or_default();
            services.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(Draft {
                id: r.id,
                status,
                since: r.since,
                created_at: r.created_at,
                incident_id: r.incident_id,
                services,
            })
        })
        .collect()
}

/// Staff decided: `Opened` (with the incident made of it) or `Dismissed`. Only a proposed
/// draft can be decided; audited.
pub async fn decide(
    db: &DatabaseConnection,
    id: i64,
    to: DraftStatus,
    incident_id: Option<i64>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), WriteError> {
    if to == DraftStatus::Proposed {
        return Err(WriteError::Invalid(
            "a draft is decided as opened or dismissed",
        ));
    }
    let txn = crate::begin_write(db).await?;
    let res = incident_draft::Entity::update_many()
        .col_expr(
            incident_draft::Column::Status,
            sea_orm::sea_query::Expr::value(to.as_str()),
        )
        .col_expr(
            incident_draft::Column::DecidedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .col_expr(
            incident_draft::Column::DecidedBy,
            sea_orm::sea_query::Expr::value(actor.label.clone()),
        )
        .col_expr(
            incident_draft::Column::IncidentId,
            sea_orm::sea_query::Expr::value(incident_id),
        )
        .filter(incident_draft::Column::Id.eq(id))
        .filter(incident_draft::Column::Status.eq(DraftStatus::Proposed.as_str()))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        txn.rollback().await?;
        return Err(
            match incident_draft::Entity::find_by_id(id).one(db).await? {
                Some(_) => WriteError::Conflict,
                None => WriteError::NotFound,
            },
        );
    }
    let action = match to {
        DraftStatus::Opened => "incident_draft.opened",
        _ => "incident_draft.dismissed",
    };
    audit::record(
        &txn,
        actor,
        action,
        Some(("incident_draft", id.to_string())),
        json!({ "incident": incident_id }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Marks proposed draft `id` opened as `incident`, inside the transaction `txn` that opens the
/// incident (see [`crate::incidents::open_from_draft`]); audited.
pub(crate) async fn open_in<C: sea_orm::ConnectionTrait>(
    txn: &C,
    id: i64,
    incident: i64,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), WriteError> {
    use sea_orm::sea_query::Expr;
    let res = incident_draft::Entity::update_many()
        .col_expr(
            incident_draft::Column::Status,
            Expr::value(DraftStatus::Opened.as_str()),
        )
        .col_expr(incident_draft::Column::DecidedAt, Expr::value(now))
        .col_expr(
            incident_draft::Column::DecidedBy,
            Expr::value(actor.label.clone()),
        )
        .col_expr(incident_draft::Column::IncidentId, Expr::value(incident))
        .filter(incident_draft::Column::Id.eq(id))
        .filter(incident_draft::Column::Status.eq(DraftStatus::Proposed.as_str()))
        .exec(txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(
            match incident_draft::Entity::find_by_id(id).one(txn).await? {
                Some(_) => WriteError::Conflict,
                None => WriteError::NotFound,
            },
        );
    }
    audit::record(
        txn,
        actor,
        "incident_draft.opened",
        Some(("incident_draft", id.to_string())),
        json!({ "incident": incident }),
        now,
    )
    .await?;
    Ok(())
}
