//! Scenario files: a time-compressed script of what happens to the estate and what staff do.
//!
//! A scenario is TOML (`config/scenarios/NAME.toml`): `seconds_per_hour` says how many real
//! seconds one simulated hour lasts at speed 1, and each `[[steps]]` entry fires at its
//! simulated time `at` with one or more actions (cut or restore hosts, degrade links,
//! partition a probe location, report a backup, post staff incident updates, schedule a
//! maintenance window).

use std::time::Duration;

use serde::Deserialize;

/// A parsed scenario.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// Real seconds per simulated hour at `--speed 1`.
    pub seconds_per_hour: f64,
    pub steps: Vec<Step>,
}

/// Everything that happens at one simulated instant.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Simulated time since the start: `0s`, `1h`, `2h30m`.
    pub at: String,
    /// A line printed to the console, narrating the step.
    #[serde(default)]
    pub say: Option<String>,
    #[serde(default)]
    pub degrade: Option<Degrade>,
    #[serde(default)]
    pub cut: Vec<String>,
    #[serde(default)]
    pub restore: Vec<String>,
    /// Probe locations whose network is cut alone (the simulated servers refuse their source
    /// address), by location id.
    #[serde(default)]
    pub partition: Vec<String>,
    #[serde(default)]
    pub heal_partition: Vec<String>,
    #[serde(default)]
    pub backup: Option<Backup>,
    #[serde(default)]
    pub incident: Option<Incident>,
    #[serde(default)]
    pub incident_update: Option<IncidentUpdate>,
    #[serde(default)]
    pub maintenance: Option<Maintenance>,
}

/// A maintenance window staff schedule through the write API: it starts at the step and lasts
/// `lasts` of simulated time (compressed like the rest of the scenario).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Maintenance {
    pub title: String,
    pub message: String,
    pub services: Vec<String>,
    /// Simulated duration: `3h`, `2h30m`.
    pub lasts: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Degrade {
    pub hosts: Vec<String>,
    pub extra_latency_ms: u64,
    pub error_percent: u8,
}

/// A backup job's report, posted to the backup monitor's push URL.
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    pub verified: bool,
    pub bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_in_s: Option<u64>,
}

/// A new incident, as staff would open it.
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    pub title: String,
    pub impact: String,
    pub status: String,
    pub message: String,
    /// `service id = status` for each affected service.
    #[serde(default)]
    pub services: std::collections::BTreeMap<String, String>,
}

/// An update to the incident the scenario opened.
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentUpdate {
    pub status: String,
    pub message: String,
    #[serde(default)]
    pub services: std::collections::BTreeMap<String, String>,
}

/// The scenarios shipped with Vigie, by name.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "humanoid-outage",
        include_str!("../../config/scenarios/humanoid-outage.toml"),
    ),
    (
        "location-partition",
        include_str!("../../config/scenarios/location-partition.toml"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("unknown scenario `{0}`; `vigie demo --list` shows the scenarios")]
    Unknown(String),
    #[error("scenario {name}: {message}")]
    Invalid { name: String, message: String },
}

impl Scenario {
    /// Parses a scenario and checks its times; steps are returned in time order.
    pub fn parse(name: &str, text: &str) -> Result<Self, ScenarioError> {
        let invalid = |message: String| ScenarioError::Invalid {
            name: name.to_owned(),
            message,
        };
        let mut s: Scenario = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if s.seconds_per_hour.is_nan() || s.seconds_per_hour <= 0.0 {
            return Err(invalid("seconds_per_hour must be positive".into()));
        }
        for step in &s.steps {
            humantime::parse_duration(&step.at)
                .map_err(|e| invalid(format!("step at `{}`: {e}", step.at)))?;
            if let Some(m) = &step.maintenance {
                humantime::parse_duration(&m.lasts).map_err(|e| {
                    invalid(format!(
                        "step at `{}`: maintenance lasts `{}`: {e}",
                        step.at, m.lasts
                    ))
                })?;
            }
        }
        s.steps
            .sort_by_key(|st| humantime::parse_duration(&st.at).unwrap_or_default());
        Ok(s)
    }

    /// A shipped scenario by name.
    pub fn builtin(name: &str) -> Result<Self, ScenarioError> {
        let (_, text) = BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| ScenarioError::Unknown(name.into()))?;
        Self::parse(name, text)
    }

    /// When `step` fires, in real time from the start, at `speed`.
    pub fn real_offset(&self, step: &Step, speed: f64) -> Duration {
        self.real_duration(&step.at, speed)
    }

    /// How long the simulated duration `simulated` (checked by [`Scenario::parse`]) lasts in
    /// real time at `speed`.
    pub fn real_duration(&self, simulated: &str, speed: f64) -> Duration {
        let simulated = humantime::parse_duration(simulated).unwrap_or_default();
        let hours = simulated.as_secs_f64() / 3600.0;
        Duration::from_secs_f64((hours * self.seconds_per_hour / speed.max(0.001)).max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_scenario_parses() {
        for (name, _) in BUILTIN {
            let s = Scenario::builtin(name).unwrap_or_else(|e| panic!("{e}"));
            assert!(!s.steps.is_empty());
        }
    }

    #[test]
    fn simulated_time_is_compressed_by_speed() {
        let s = Scenario::parse(
            "t",
            "name='t'\ndescription='d'\nseconds_per_hour=20.0\n[[steps]]\nat='1h30m'\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.real_offset(&s.steps[0], 1.0), Duration::from_secs(30));
        assert_eq!(s.real_offset(&s.steps[0], 10.0), Duration::from_secs(3));
    }

    #[test]
    fn unknown_scenario_and_bad_time_are_clear_errors() {
        assert!(Scenario::builtin("nope")
            .unwrap_err()
            .to_string()
            .contains("vigie demo --list"));
        let e = Scenario::parse(
            "t",
            "name='t'\ndescription='d'\nseconds_per_hour=20.0\n[[steps]]\nat='soon'\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("step at `soon`"));
        let e = Scenario::parse(
            "t",
            "name='t'\ndescription='d'\nseconds_per_hour=20.0\n[[steps]]\nat='1h'\n\
             [steps.maintenance]\ntitle='m'\nmessage='m'\nservices=[]\nlasts='forever'\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("maintenance lasts `forever`"), "{e}");
    }
}
