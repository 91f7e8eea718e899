//! The staff console's views: each function takes plain data (structs defined here, or
//! `domain` types) and returns the page's HTML. The handlers in the server's `admin` module
//! read the request, check the session, role and CSRF token, call the store, and hand the
//! result here; this crate knows nothing of HTTP or the database (`scripts/check-deps.sh`
//! keeps axum, sea-orm, store and server out of it).
//!
//! Everything is Leptos `view!` rendered to a string on the server (the same layer as the
//! public pages), so text is escaped by construction; nothing hydrates and the console's CSP
//! allows no script.

pub mod account;
pub mod agents;
pub mod audit;
pub mod clock;
pub mod fields;
pub mod forms;
pub mod incident;
pub mod incidents;
pub mod login;
pub mod maintenance;
pub mod people;
pub mod refusal;
pub mod secrets;
pub mod shell;
pub mod subscribers;
pub mod templates;
pub mod tokens;
pub mod words;

pub use clock::{Clock, TimeError};
pub use fields::{
    csrf, described_by, field_error, field_id, options, select, textarea, textarea_text, Errors,
    Input,
};
pub use shell::{status_badge, Notice, Page, Section, Viewer};
pub use words::{L, STATUSES};
