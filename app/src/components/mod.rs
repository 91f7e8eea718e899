//! Reusable pieces of the public pages.

pub mod clock;
pub mod incident_card;
pub mod service_group;
pub mod status_label;
