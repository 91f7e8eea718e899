//! How Vigie's incidents, windows and catalog become Statuspage components, incidents and
//! scheduled maintenances (the mapping rules are listed in the module above).

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use domain::incident::{IncidentStatus, MaintenanceStatus, MaintenanceView};
use domain::status::ComponentStatus;
use store::api_read::{GroupRow, IncidentDetail, ServiceRow};

use super::schema::{
    component_status, AffectedComponent, Component, ComponentState, Impact, Incident,
    IncidentState, IncidentUpdate, MaintenanceState, Page, ScheduledMaintenance,
};
use super::ApiError;
use crate::state::AppState;
use domain::statuspage::page_id;

/// What every body is built from: the site and, once loaded, the components.
pub(super) struct Ctx<'a> {
    state: &'a AppState,
    page_id: String,
    /// Every group and service component, in page order.
    pub(super) components: Vec<Component>,
    by_id: HashMap<String, Component>,
}

impl<'a> Ctx<'a> {
    /// The context without components, for bodies that name none (`status.json`).
    pub(super) fn bare(state: &'a AppState) -> Self {
        Ctx {
            state,
            page_id: page_id(&state.ctx.base_url),
            components: Vec::new(),
            by_id: HashMap::new(),
        }
    }

    /// The context with every component, as the catalog stands at `now`.
    pub(super) async fn load(state: &'a AppState, now: DateTime<Utc>) -> Result<Ctx<'a>, ApiError> {
        let groups = store::api_read::catalog(&state.ctx.db, now).await?;
        let page_id = page_id(&state.ctx.base_url);
        let components = build_components(state, &page_id, &groups);
        let by_id = components
            .iter()
            .filter(|c| !c.group)
            .map(|c| (c.id.clone(), c.clone()))
            .collect();
        Ok(Ctx {
            state,
            page_id,
            components,
            by_id,
        })
    }

    fn ts(&self, t: DateTime<Utc>) -> String {
        ts(self.state, t)
    }

    fn component(&self, id: &str) -> Option<Component> {
        self.by_id.get(id).cloned()
    }

    fn name_of(&self, id: &str) -> String {
        self.by_id
            .get(id)
            .map_or_else(|| id.to_owned(), |c| c.name.clone())
    }

    pub(super) fn incident(&self, d: &IncidentDetail) -> Incident {
        let i = &d.incident;
        let id = i.id.to_string();
        // Updates are newest first: walk them oldest first to know each component's previous
        // stated status.
        let mut last: HashMap<&str, ComponentStatus> = HashMap::new();
        let mut updates = Vec::with_capacity(i.updates.len());
        for u in i.updates.iter().rev() {
            let stated = d.stated.get(&u.id).map(Vec::as_slice).unwrap_or_default();
            let affected: Vec<AffectedComponent> = stated
                .iter()
                .map(|(sid, st)| {
                    let old = last
                        .insert(sid.as_str(), *st)
                        .unwrap_or(ComponentStatus::Operational);
                    AffectedComponent {
                        code: sid.clone(),
                        name: self.name_of(sid),
                        old_status: old.into(),
                        new_status: (*st).into(),
                    }
                })
                .collect();
            updates.push(IncidentUpdate {
                id: u.id.to_string(),
                incident_id: id.clone(),
                status: u.status.as_str().to_owned(),
                body: u.message_md.clone(),
                created_at: self.ts(u.created_at),
                updated_at: self.ts(u.edited_at.unwrap_or(u.created_at)),
                display_at: self.ts(u.created_at),
                affected_components: (!affected.is_empty()).then_some(affected),
                deliver_notifications: d.notify,
            });
        }
        updates.reverse();
        let monitoring_at = i
            .updates
            .iter()
            .find(|u| u.status == IncidentStatus::Monitoring)
            .map(|u| self.ts(u.created_at));
        Incident {
            name: i.title.clone(),
            status: match i.status {
                IncidentStatus::Investigating => IncidentState::Investigating,
                IncidentStatus::Identified => IncidentState::Identified,
                IncidentStatus::Monitoring => IncidentState::Monitoring,
                IncidentStatus::Resolved => IncidentState::Resolved,
                IncidentStatus::Postmortem => IncidentState::Postmortem,
            },
            impact: match i.impact {
                domain::incident::Impact::None => Impact::None,
                domain::incident::Impact::Minor => Impact::Minor,
                domain::incident::Impact::Major => Impact::Major,
                domain::incident::Impact::Critical => Impact::Critical,
            },
            created_at: self.ts(i.started_at.min(i.created_at)),
            updated_at: self.ts(i.updated_at),
            monitoring_at,
            resolved_at: i.resolved_at.map(|t| self.ts(t)),
            shortlink: Some(format!(
                "{}/incidents/{}",
                self.state.ctx.base_url.trim_end_matches('/'),
                i.id
            )),
            page_id: self.page_id.clone(),
            incident_updates: updates,
            components: i
                .services
                .iter()
                .filter_map(|s| self.component(&s.service_id))
                .collect(),
            id,
        }
    }

    pub(super) fn maintenance(&self, m: &MaintenanceView) -> ScheduledMaintenance {
        let id = format!("m{}", m.id);
        let status = |s: MaintenanceStatus| match s {
            MaintenanceStatus::Scheduled => MaintenanceState::Scheduled,
            MaintenanceStatus::InProgress => MaintenanceState::InProgress,
            MaintenanceStatus::Verifying => MaintenanceState::Verifying,
            MaintenanceStatus::Completed => MaintenanceState::Completed,
        };
        // The notice was written when the window was created: its status is the window's then.
        let notice_status = MaintenanceStatus::Scheduled.at(m.starts_at, m.ends_at, m.created_at);
        let affected: Vec<AffectedComponent> = m
            .services
            .iter()
            .map(|s| AffectedComponent {
                code: s.service_id.clone(),
                name: s.name.clone(),
                old_status: ComponentState::Operational,
                new_status: ComponentState::UnderMaintenance,
            })
            .collect();
        ScheduledMaintenance {
            name: m.title.clone(),
            status: status(m.status),
            impact: Impact::Maintenance,
            created_at: self.ts(m.created_at),
            updated_at: self.ts(m.updated_at),
            monitoring_at: None,
            resolved_at: (m.status == MaintenanceStatus::Completed)
                .then(|| self.ts(m.ends_at.min(m.updated_at.max(m.starts_at)))),
            shortlink: None,
            page_id: self.page_id.clone(),
            incident_updates: vec![IncidentUpdate {
                id: format!("{id}-notice"),
                incident_id: id.clone(),
                status: notice_status.as_str().to_owned(),
                body: m.message_md.clone(),
                created_at: self.ts(m.created_at),
                updated_at: self.ts(m.created_at),
                display_at: self.ts(m.created_at),
                affected_components: (!affected.is_empty()).then_some(affected),
                deliver_notifications: false,
            }],
            components: m
                .services
                .iter()
                .filter_map(|s| self.component(&s.service_id))
                .collect(),
            scheduled_for: self.ts(m.starts_at),
            scheduled_until: self.ts(m.ends_at),
            id,
        }
    }

    pub(super) async fn page(&self, now: DateTime<Utc>) -> Result<Page, ApiError> {
        let updated = store::api_read::last_change(&self.state.ctx.db)
            .await?
            .unwrap_or(now);
        Ok(Page {
            id: self.page_id.clone(),
            name: self.state.ctx.site_title.clone(),
            url: self.state.ctx.base_url.clone(),
            time_zone: self.state.ctx.timezone.name().to_owned(),
            updated_at: self.ts(updated),
        })
    }
}

/// ISO 8601 in the site's timezone, with milliseconds and offset, like Statuspage.
fn ts(state: &AppState, t: DateTime<Utc>) -> String {
    t.with_timezone(&state.ctx.timezone)
        .to_rfc3339_opts(SecondsFormat::Millis, false)
}

fn build_components(state: &AppState, page_id: &str, groups: &[GroupRow]) -> Vec<Component> {
    let mut out = Vec::new();
    for g in groups {
        let gid = format!("group.{}", g.id);
        let members: Vec<Component> = g
            .services
            .iter()
            .map(|s| service_component(state, page_id, &gid, s))
            .collect();
        let worst = g
            .services
            .iter()
            .map(|s| component_status(s.state))
            .max()
            .unwrap_or(ComponentStatus::Operational);
        let created = g.services.iter().map(|s| s.created_at).min();
        let updated = g
            .services
            .iter()
            .map(|s| s.status_updated_at.unwrap_or(s.created_at))
            .max();
        out.push(Component {
            name: g.name.clone(),
            status: worst.into(),
            created_at: created.map(|t| ts(state, t)).unwrap_or_default(),
            updated_at: updated
                .or(created)
                .map(|t| ts(state, t))
                .unwrap_or_default(),
            position: g.position,
            description: None,
            showcase: false,
            start_date: None,
            group_id: None,
            page_id: page_id.to_owned(),
            group: true,
            only_show_if_degraded: false,
            components: Some(members.iter().map(|m| m.id.clone()).collect()),
            id: gid,
        });
        out.extend(members);
    }
    out
}

fn service_component(state: &AppState, page_id: &str, gid: &str, s: &ServiceRow) -> Component {
    Component {
        id: s.id.clone(),
        name: s.name.clone(),
        status: component_status(s.state).into(),
        created_at: ts(state, s.created_at),
        updated_at: ts(state, s.status_updated_at.unwrap_or(s.created_at)),
        position: s.position,
        description: s.description.clone(),
        showcase: true,
        start_date: None,
        group_id: Some(gid.to_owned()),
        page_id: page_id.to_owned(),
        group: false,
        only_show_if_degraded: false,
        components: None,
    }
}
