//! sea-orm entities, one module per table, written by hand to match `migrations`.

pub mod check_result;
pub mod host;
pub mod location;
pub mod monitor;
pub mod service;
pub mod service_group;
