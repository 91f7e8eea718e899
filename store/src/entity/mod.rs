//! sea-orm entities, one module per table, written by hand to match `migrations`.

pub mod check_result;
pub mod current_status;
pub mod host;
pub mod location;
pub mod monitor;
pub mod monitor_state;
pub mod rollup;
pub mod service;
pub mod service_group;
pub mod status_event;
