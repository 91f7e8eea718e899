//! sea-orm entities, one module per table, written by hand to match `migrations`.

pub mod api_token;
pub mod audit_event;
pub mod check_result;
pub mod cluster_lease;
pub mod current_status;
pub mod host;
pub mod incident;
pub mod incident_draft;
pub mod incident_draft_service;
pub mod incident_service;
pub mod incident_update;
pub mod location;
pub mod maintenance;
pub mod maintenance_service;
pub mod manual_status;
pub mod monitor;
pub mod monitor_state;
pub mod push_beat;
pub mod rollup;
pub mod service;
pub mod service_group;
pub mod session;
pub mod status_event;
pub mod user;
