//! Who may write: roles, accounts and a field team's assignment.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::{Site, SiteId, UnknownName};

/// What an account may do. The public (no account) only reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A field team: moves status forward, raises progress and writes notes on its assigned sites.
    Field,
    /// A planner: changes any site, moves status backwards (with a reason), edits plan fields.
    Planner,
    /// Manages accounts (from the command line); edits no site, so that whoever hands out
    /// access does not also write the record.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 3] = [Role::Field, Role::Planner, Role::Admin];

    /// The machine name (`field`, `planner`, `admin`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Field => "field",
            Role::Planner => "planner",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownName {
                what: "role",
                got: s.chars().take(40).collect(),
                expected: Role::ALL.map(|r| r.as_str()).join(", "),
            })
    }
}

/// A holder of a token: a person or team with a role and, for field teams, an assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    /// Store row id.
    pub id: i64,
    /// Unique display name (`Team 3`), recorded as the actor of every change.
    pub name: String,
    /// What the account may do.
    pub role: Role,
    /// Team label, if any (`三台子街道`).
    pub team: Option<String>,
    /// Assigned sub-districts, by NBS code or name.
    pub subdistricts: Vec<String>,
    /// Assigned individual sites.
    pub sites: Vec<SiteId>,
}

impl Account {
    /// Whether `site` lies within the account's assignment. Planners cover every site; admins
    /// none; field teams the sub-districts and sites they were given.
    ///
    /// # Examples
    /// ```
    /// use renewal_map::model::{Account, Role, SiteId};
    /// let team = Account { id: 1, name: "Team 3".into(), role: Role::Field, team: None,
    ///     subdistricts: vec!["三台子街道".into()], sites: vec![SiteId("park-001".into())] };
    /// assert!(team.assigned("210105011", "三台子街道", "road-009"));
    /// assert!(team.assigned("210105001", "华山街道", "park-001"));
    /// assert!(!team.assigned("210105001", "华山街道", "park-002"));
    /// ```
    pub fn assigned(&self, subdistrict_code: &str, subdistrict: &str, site_id: &str) -> bool {
        match self.role {
            Role::Planner => true,
            Role::Admin => false,
            Role::Field => {
                self.sites.iter().any(|s| s.as_str() == site_id)
                    || self
                        .subdistricts
                        .iter()
                        .any(|d| d == subdistrict_code || d == subdistrict)
            }
        }
    }

    /// Whether `site` lies within the account's assignment (see [`Account::assigned`]).
    pub fn covers(&self, site: &Site) -> bool {
        self.assigned(&site.subdistrict_code, &site.subdistrict, site.id.as_str())
    }
}
