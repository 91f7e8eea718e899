//! What the public page receives from the server: plain data, no behaviour.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::status::ServiceState;

/// The whole public overview (`/`), rendered on the server and hydrated in the browser.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusPage {
    pub title: String,
    /// When the server assembled this snapshot; the page's relative clock counts from it.
    pub generated_at: DateTime<Utc>,
    pub groups: Vec<GroupView>,
    /// Open incidents, newest first, each with its latest update.
    #[serde(default)]
    pub incidents: Vec<crate::incident::IncidentView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupView {
    pub id: String,
    pub name: String,
    pub services: Vec<ServiceView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceView {
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub url: Option<String>,
    pub state: ServiceState,
    /// Why the service is not operational, e.g. `down: host phys-2 unreachable`.
    #[serde(default)]
    pub cause: Option<String>,
}
