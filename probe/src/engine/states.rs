//! Every monitor's state at every location, as the collector knows it.

use std::collections::HashMap;

use domain::monitor_state::MonitorState;

/// Monitor states keyed by monitor id and location. A location is kept as its place in a
/// short list of names, not as a `String` in each key: with 100,000 monitors that was an
/// allocation per entry, and one more for every lookup of the quorum's evaluation (every
/// monitor, every location, every 5 s).
#[derive(Debug, Default)]
pub(super) struct States {
    /// The locations seen so far (a handful: a linear search beats hashing).
    locations: Vec<String>,
    map: HashMap<(i64, u32), MonitorState>,
}

impl States {
    fn place(&self, location: &str) -> Option<u32> {
        self.locations
            .iter()
            .position(|l| l == location)
            .and_then(|i| u32::try_from(i).ok())
    }

    fn place_or_add(&mut self, location: &str) -> u32 {
        if let Some(i) = self.place(location) {
            return i;
        }
        self.locations.push(location.to_owned());
        u32::try_from(self.locations.len() - 1).unwrap_or(u32::MAX)
    }

    pub(super) fn get(&self, monitor_id: i64, location: &str) -> Option<&MonitorState> {
        self.map.get(&(monitor_id, self.place(location)?))
    }

    pub(super) fn insert(&mut self, monitor_id: i64, location: &str, state: MonitorState) {
        let place = self.place_or_add(location);
        self.map.insert((monitor_id, place), state);
    }

    /// Takes a state read from the store unless the one known here is newer: a read answered
    /// late (the database paused mid-query) must not move a monitor back in time.
    pub(super) fn insert_unless_older(
        &mut self,
        monitor_id: i64,
        location: &str,
        state: MonitorState,
    ) {
        let place = self.place_or_add(location);
        let slot = self.map.entry((monitor_id, place));
        match slot {
            std::collections::hash_map::Entry::Occupied(mut o) => {
                if o.get().last_at <= state.last_at {
                    o.insert(state);
                }
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(state);
            }
        }
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, Utc};

    #[test]
    fn states_are_found_by_monitor_and_location() {
        let mut s = States::default();
        let now = Utc::now();
        let at = |secs| MonitorState {
            last_at: Some(now + TimeDelta::seconds(secs)),
            ..MonitorState::default()
        };
        s.insert(1, "paris", at(0));
        s.insert(1, "tokyo", at(1));
        s.insert(2, "paris", at(2));
        assert_eq!(s.len(), 3);
        assert_eq!(s.get(1, "tokyo"), Some(&at(1)));
        assert_eq!(s.get(2, "paris"), Some(&at(2)));
        assert_eq!(s.get(2, "tokyo"), None);
        assert_eq!(s.get(1, "oslo"), None, "a location never seen");
        s.insert(1, "paris", at(5));
        assert_eq!(s.get(1, "paris"), Some(&at(5)), "replaced");
        assert_eq!(s.len(), 3);
        s.insert_unless_older(1, "paris", at(3));
        assert_eq!(
            s.get(1, "paris"),
            Some(&at(5)),
            "an older read is not taken"
        );
        s.insert_unless_older(1, "paris", at(7));
        assert_eq!(s.get(1, "paris"), Some(&at(7)));
        s.insert_unless_older(3, "oslo", at(0));
        assert_eq!(s.get(3, "oslo"), Some(&at(0)));
    }
}
