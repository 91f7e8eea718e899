//! Reusable pieces of the public pages.

pub mod clock;
pub mod day_bar;
pub mod incident_card;
pub mod latency_chart;
pub mod service_group;
pub mod status_label;
