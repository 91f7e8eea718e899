//! Staff roles and API token scopes: what a member of the team, or a token they made, may do.
//! Pure types, so the console's views (which link no database code) and the store (which keeps
//! them in columns) name the same ones.

/// What a staff member may do: admins everything, editors incidents and maintenance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Editor,
    Admin,
}

impl Role {
    /// The word stored in the database and read by the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Role::Admin),
            "editor" => Some(Role::Editor),
            _ => None,
        }
    }
}

/// What an API token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Create, update and resolve incidents, post updates.
    IncidentsWrite,
    /// Schedule and change maintenance windows.
    MaintenanceWrite,
    /// Set a service's manual status.
    ServicesWrite,
}

impl Scope {
    pub const ALL: [Scope; 3] = [
        Scope::IncidentsWrite,
        Scope::MaintenanceWrite,
        Scope::ServicesWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::IncidentsWrite => "incidents:write",
            Scope::MaintenanceWrite => "maintenance:write",
            Scope::ServicesWrite => "services:write",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_reads_back_from_its_stored_word() {
        for r in [Role::Editor, Role::Admin] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
        assert!(Role::Admin > Role::Editor);
    }

    #[test]
    fn a_scope_reads_back_from_its_stored_word() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
        }
        assert_eq!(Scope::parse("incidents:read"), None);
    }
}
