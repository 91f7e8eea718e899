//! `/admin/agents` (admins only): remote probe agents for staff (the page is
//! `console::agents`). Each catalog location with its state, the agent tokens with their
//! location, and a form that creates one. A new token is shown once (`ui::shown_once`, as API
//! tokens are); the database keeps its SHA-256. Creating and revoking are audited by the store
//! (`agent_token.create`, `agent_token.revoke`), the same functions `vigie agent-token` uses.
//! What this page does as the API tokens page does is [`super::secrets`].

use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use console::{Errors, Notice, L};
use store::audit::{Actor, WriteError};

use super::internal;
use super::secrets::{self, TokenPage};
use super::ui;
use super::ui::shown_once::{ShownOnce, AGENT_TOKEN};
use crate::auth::{Posted, Staff};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/agents",
            get(secrets::show::<Agents>).post(secrets::create::<Agents>),
        )
        .route("/admin/agents/{id}/revoke", post(secrets::revoke::<Agents>))
}

/// The remote probe agents page.
struct Agents;

impl TokenPage for Agents {
    /// The location chosen and the label typed.
    type Form = (String, String);
    const ONCE: ShownOnce = AGENT_TOKEN;
    const REVOKED: &'static str = "agent-token-revoked";

    fn revoked_notice(l: L) -> &'static str {
        l.t(
            "Jeton d'agent révoqué : l'agent ne peut plus rien envoyer.",
            "Agent token revoked: the agent can no longer send anything.",
        )
    }

    fn creation_refused(l: L, e: &WriteError) -> Option<(&'static str, &'static str)> {
        match e {
            WriteError::NotFound => Some((
                "location",
                l.t(
                    "Cet emplacement n'est pas dans le catalogue : choisissez-en un dans la liste.",
                    "This location is not in the catalog: choose one from the list.",
                ),
            )),
            WriteError::Invalid("label") => Some((
                "label",
                l.t(
                    "Un nom de 1 à 200 caractères.",
                    "A label of 1 to 200 characters.",
                ),
            )),
            _ => None,
        }
    }

    async fn page(
        state: &AppState,
        staff: &Staff,
        form: (String, String),
        errors: Errors,
        notice: Option<Notice>,
        created: Option<String>,
    ) -> Response {
        let now = Utc::now();
        let found = tokio::try_join!(
            store::agents::locations(&state.ctx.db, now),
            store::tokens::agent::list_tokens(&state.ctx.db),
        );
        let (locations, tokens) = match found {
            Ok(f) => f,
            Err(e) => return internal(e),
        };
        let clock = staff.clock(state);
        let status = ui::form_status(&errors);
        let (location, label) = form;
        let shown = console::agents::Shown {
            location,
            label,
            errors,
            notice,
            created,
        };
        let locations = locations
            .into_iter()
            .map(|r| console::agents::Location {
                id: r.id,
                name: r.name,
                last_report_at: r.last_report_at,
                reporting: r.reporting,
            })
            .collect();
        let tokens = tokens
            .into_iter()
            .map(|t| console::agents::Token {
                id: t.id,
                location_id: t.location_id,
                label: t.label,
                prefix: t.prefix,
                last_used_at: t.last_used_at,
                revoked_at: t.revoked_at,
            })
            .collect();
        let page = console::agents::page(staff.viewer(), clock, now, shown, locations, tokens);
        ui::html(status, page)
    }

    fn read_form(posted: &Posted) -> ((String, String), Errors) {
        let l = posted.staff.l();
        let location = posted.get("location").unwrap_or("").trim().to_owned();
        let label = posted.get("label").unwrap_or("").to_owned();
        let mut errors = Errors::default();
        if label.trim().is_empty() {
            errors.add(
                "label",
                l.t(
                    "Donnez un nom qui dit où tourne l'agent.",
                    "Give a label that says where the agent runs.",
                ),
            );
        }
        ((location, label), errors)
    }

    async fn create(
        state: &AppState,
        staff: &Staff,
        (location, label): &(String, String),
        now: DateTime<Utc>,
    ) -> Result<String, WriteError> {
        let made =
            store::tokens::agent::create_token(&state.ctx.db, location, label, &staff.actor(), now)
                .await?;
        Ok(made.0)
    }

    async fn revoke(
        state: &AppState,
        id: i64,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), WriteError> {
        store::tokens::agent::revoke_token(&state.ctx.db, id, actor, now)
            .await
            .map(|_| ())
    }
}
