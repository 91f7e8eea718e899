//! `/admin/tokens` (admins only): the write API's tokens, each with its permissions and last
//! use, revocable, and the form that creates one (the page is `console::tokens`). A new
//! token's value is shown once (`ui::shown_once`); the database keeps its SHA-256. Creating
//! and revoking are audited by the store, the same functions `vigie token` uses. What this page
//! does as the agents page does is [`super::secrets`].

use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use console::{Errors, Notice, L};
use domain::staff::Scope;
use store::audit::{Actor, WriteError};

use super::internal;
use super::secrets::{self, TokenPage};
use super::ui;
use super::ui::shown_once::{ShownOnce, API_TOKEN};
use crate::auth::{Posted, Staff};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/tokens",
            get(secrets::show::<Tokens>).post(secrets::create::<Tokens>),
        )
        .route("/admin/tokens/{id}/revoke", post(secrets::revoke::<Tokens>))
}

/// The write API's tokens page.
struct Tokens;

impl TokenPage for Tokens {
    /// The name typed and the permissions ticked (the page shows the name again).
    type Form = (String, Vec<Scope>);
    const ONCE: ShownOnce = API_TOKEN;
    const REVOKED: &'static str = "token-revoked";

    fn revoked_notice(l: L) -> &'static str {
        l.t(
            "Jeton révoqué : il ne donne plus accès.",
            "Token revoked: it no longer gives access.",
        )
    }

    async fn page(
        state: &AppState,
        staff: &Staff,
        (name, _): (String, Vec<Scope>),
        errors: Errors,
        notice: Option<Notice>,
        created: Option<String>,
    ) -> Response {
        let list = match store::tokens::api::list(&state.ctx.db).await {
            Ok(l) => l,
            Err(e) => return internal(e),
        };
        let list = list
            .into_iter()
            .map(|t| console::tokens::Token {
                id: t.id,
                name: t.name,
                prefix: t.prefix,
                scopes: t.scopes,
                last_used_at: t.last_used_at,
                revoked_at: t.revoked_at,
            })
            .collect();
        let clock = staff.clock(state);
        let page =
            console::tokens::page(staff.viewer(), clock, list, &name, &errors, notice, created);
        ui::html(ui::form_status(&errors), page)
    }

    fn read_form(posted: &Posted) -> ((String, Vec<Scope>), Errors) {
        let l = posted.staff.l();
        let scopes: Vec<Scope> = posted
            .all("scopes")
            .into_iter()
            .filter_map(Scope::parse)
            .collect();
        let name = posted.get("name").unwrap_or("").to_owned();
        let mut errors = Errors::default();
        if name.is_empty() {
            errors.add(
                "name",
                l.t(
                    "Donnez un nom qui dit à quoi sert le jeton.",
                    "Give a name that says what the token is for.",
                ),
            );
        }
        if scopes.is_empty() {
            errors.add(
                "scopes",
                l.t(
                    "Cochez au moins une permission.",
                    "Tick at least one permission.",
                ),
            );
        }
        ((name, scopes), errors)
    }

    async fn create(
        state: &AppState,
        staff: &Staff,
        (name, scopes): &(String, Vec<Scope>),
        now: DateTime<Utc>,
    ) -> Result<String, WriteError> {
        let made = store::tokens::api::create(
            &state.ctx.db,
            staff.user().id,
            name,
            scopes,
            &staff.actor(),
            now,
        )
        .await?;
        Ok(made.0)
    }

    async fn revoke(
        state: &AppState,
        id: i64,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), WriteError> {
        store::tokens::api::revoke(&state.ctx.db, id, actor, now)
            .await
            .map(|_| ())
    }
}
