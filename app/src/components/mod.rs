//! Reusable pieces of the public pages.

pub mod clock;
pub mod day_bar;
pub mod incident_card;
pub mod latency_chart;
pub mod maintenance_list;
pub mod service_group;
pub mod site_chrome;
pub mod status_label;
pub mod theme_toggle;
