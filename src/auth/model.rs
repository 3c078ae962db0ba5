//! Identity domain types, valid by construction.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use crate::ids::{ClientId, OrgId, UserId};

/// What a user may do in their organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Programme admin at HQ: users, locations, questionnaires, clients.
    Admin,
    /// Reviews incoming reports before they are released.
    Reviewer,
    /// Reads aggregates and exports.
    Analyst,
    /// Location or region manager: released results of their own locations.
    Manager,
    /// Mystery shopper: submits visit reports.
    Shopper,
}

impl Role {
    pub fn parse(s: &str) -> Option<Self> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Reviewer,
        Role::Analyst,
        Role::Manager,
        Role::Shopper,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Reviewer => "reviewer",
            Role::Analyst => "analyst",
            Role::Manager => "manager",
            Role::Shopper => "shopper",
        }
    }

    /// The scopes a user of this role holds; informational in tokens and `/me`, since users
    /// are authorized by role.
    pub fn scopes(self) -> Vec<Scope> {
        use Scope::*;
        match self {
            Role::Admin => vec![
                ReportsRead,
                AggregatesRead,
                LocationsRead,
                QuestionnairesRead,
                EventsRead,
                ActionsRead,
            ],
            Role::Reviewer => vec![ReportsRead, LocationsRead, QuestionnairesRead, ActionsRead],
            Role::Analyst => vec![
                ReportsRead,
                AggregatesRead,
                LocationsRead,
                QuestionnairesRead,
                ActionsRead,
            ],
            Role::Manager => vec![AggregatesRead, LocationsRead, ActionsRead],
            Role::Shopper => vec![ReportsWrite, LocationsRead, QuestionnairesRead],
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role `{s}`"))
    }
}

/// A permission an integration client can be granted.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
pub enum Scope {
    #[serde(rename = "reports:write")]
    ReportsWrite,
    #[serde(rename = "reports:read")]
    ReportsRead,
    #[serde(rename = "aggregates:read")]
    AggregatesRead,
    #[serde(rename = "locations:read")]
    LocationsRead,
    #[serde(rename = "questionnaires:read")]
    QuestionnairesRead,
    #[serde(rename = "events:read")]
    EventsRead,
    #[serde(rename = "actions:read")]
    ActionsRead,
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Scope::ReportsWrite,
        Scope::ReportsRead,
        Scope::AggregatesRead,
        Scope::LocationsRead,
        Scope::QuestionnairesRead,
        Scope::EventsRead,
        Scope::ActionsRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::ReportsWrite => "reports:write",
            Scope::ReportsRead => "reports:read",
            Scope::AggregatesRead => "aggregates:read",
            Scope::LocationsRead => "locations:read",
            Scope::QuestionnairesRead => "questionnaires:read",
            Scope::EventsRead => "events:read",
            Scope::ActionsRead => "actions:read",
        }
    }

    /// Parses a space-separated scope list (the OAuth2 `scope` format).
    pub fn parse_list(s: &str) -> Result<Vec<Scope>, String> {
        let mut scopes = Vec::new();
        for item in s.split_whitespace() {
            let scope = item.parse::<Scope>()?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        scopes.sort();
        Ok(scopes)
    }

    pub fn join(scopes: &[Scope]) -> String {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| format!("unknown scope `{s}`"))
    }
}

/// An email address, trimmed, in Unicode NFC and lower-cased, so that it is unique (within an
/// organization) however it is typed. Look-alike tricks are refused: invisible format
/// characters (zero-width spaces and joiners, direction marks), `..`, a dot at either end of
/// the local part, IP-literal or numeric domains and malformed domain labels.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        use unicode_general_category::{GeneralCategory, get_general_category};
        use unicode_normalization::UnicodeNormalization;

        let shown = raw.trim();
        let invalid = || format!("`{shown}` is not a valid email address");
        let email: String = shown.nfc().collect::<String>().to_lowercase();
        if email.len() > 254 {
            return Err("an email address has at most 254 characters".into());
        }
        if let Some(c) = email
            .chars()
            .find(|c| get_general_category(*c) == GeneralCategory::Format)
        {
            return Err(format!(
                "an email address may not contain invisible characters such as zero-width spaces (U+{:04X} here)",
                u32::from(c)
            ));
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err("an email address needs an `@`".into());
        };
        if domain.starts_with('[') || domain.parse::<std::net::IpAddr>().is_ok() {
            return Err(format!(
                "`{shown}` names an IP address; an email address needs a domain name"
            ));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels
                .iter()
                .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'))
            && labels
                .last()
                .is_some_and(|tld| !tld.chars().all(|c| c.is_ascii_digit()))
            && !domain.contains(['@', '[', ']', '(', ')', ',', ';', ':', '<', '>', '"', '\\']);
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..");
        let chars_ok = !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if domain_ok && local_ok && chars_ok {
            Ok(Email(email))
        } else {
            Err(invalid())
        }
    }

    /// An email as stored: read back without re-validation, so that a row written under
    /// older rules stays readable.
    pub fn stored(email: String) -> Self {
        Email(email)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub const PASSWORD_MIN_CHARS: usize = 12;
pub const PASSWORD_MAX_BYTES: usize = 1024;

/// A password that meets the length policy. Never printed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: String) -> Result<Self, String> {
        if raw.len() > PASSWORD_MAX_BYTES {
            return Err(format!("a password has at most {PASSWORD_MAX_BYTES} bytes"));
        }
        if raw.chars().count() < PASSWORD_MIN_CHARS {
            return Err(format!(
                "a password has at least {PASSWORD_MIN_CHARS} characters"
            ));
        }
        Ok(Password(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A display name: trimmed, 1 to 200 characters, no control characters.
pub fn parse_display_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("a name cannot be empty".into());
    }
    if name.chars().count() > 200 {
        return Err("a name has at most 200 characters".into());
    }
    if name.chars().any(char::is_control) {
        return Err("a name cannot contain control characters".into());
    }
    Ok(name.to_string())
}

/// A user as the application sees it (never with the password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub org_id: OrgId,
    pub email: Email,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// Access tokens issued before this instant are refused (set by a password change, a
    /// role change or a deactivation).
    pub sessions_valid_after: Option<chrono::DateTime<chrono::Utc>>,
    /// The language the user reads questionnaires in (BCP 47), over `Accept-Language`.
    pub preferred_language: Option<String>,
}

/// An integration client (never with its secret hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationClient {
    pub id: ClientId,
    pub org_id: OrgId,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub active: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: OrgId,
    pub name: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ana.Lima@Example.COM ").unwrap().as_str(),
            "ana.lima@example.com"
        );
        // NFC: a decomposed accent (e + U+0301) is the same address as the composed one.
        assert_eq!(
            Email::parse("Jose\u{301}@Example.com").unwrap(),
            Email::parse("jos\u{e9}@example.com").unwrap()
        );
        assert_eq!(
            Email::parse("ana@b\u{fc}cher.example").unwrap().as_str(),
            "ana@b\u{fc}cher.example"
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "a b@example.com",
            "a@b@c.com",
            "ana@.com",
            "ana..lima@example.com",
            ".ana@example.com",
            "ana.@example.com",
            "ana@example..com",
            "ana@[127.0.0.1]",
            "ana@127.0.0.1",
            "ana@example.123",
            "ana@-example.com",
            "an\u{200b}a@example.com",
            "ana@exa\u{200d}mple.com",
            "ana\u{feff}@example.com",
            "ana@\u{202e}moc.example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_follow_the_length_policy() {
        assert!(Password::parse("short".into()).is_err());
        assert!(Password::parse("exactly12chr".into()).is_ok());
        // Twelve characters even when they take more bytes.
        assert!(Password::parse("ééééééééééé".into()).is_err());
        assert!(Password::parse("éééééééééééé".into()).is_ok());
        assert!(Password::parse("x".repeat(1025)).is_err());
        assert!(Password::parse("x".repeat(1024)).is_ok());
        assert_eq!(
            format!("{:?}", Password::parse("secret-secret".into()).unwrap()),
            "Password(***)"
        );
    }

    #[test]
    fn roles_and_scopes_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("root".parse::<Role>().is_err());
        assert_eq!(
            Scope::parse_list("reports:read  reports:write reports:read").unwrap(),
            vec![Scope::ReportsWrite, Scope::ReportsRead]
        );
        assert!(Scope::parse_list("reports:delete").is_err());
        assert_eq!(
            Scope::join(&[Scope::LocationsRead, Scope::ReportsRead]),
            "locations:read reports:read"
        );
    }
}
