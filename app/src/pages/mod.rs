//! One module per page.

pub mod history;
pub mod home;
pub mod incident;
pub mod maintenance;
pub mod not_found;
pub mod service;
