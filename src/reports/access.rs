//! Who may see which reports, how much of them, and who may submit one.

use super::model::{View, Visibility};
use super::service::ReportError;
use crate::auth::model::{Role, Scope};
use crate::auth::{AuthUser, Principal};

/// Which reports the caller may see: admins and reviewers everything; analysts and
/// integration clients with `reports:read` everything but staff descriptions; shoppers their
/// own; managers the released reports of their locations. A client without the scope may
/// see none.
pub fn visibility(caller: &AuthUser) -> Result<Visibility, ReportError> {
    match caller.principal {
        Principal::Client { .. } if caller.scopes.contains(&Scope::ReportsRead) => {
            Ok(Visibility::All(View::NoStaff))
        }
        Principal::Client { .. } => {
            Err(ReportError::Forbidden("this needs the scope reports:read"))
        }
        Principal::User { id, role } => Ok(match role {
            Role::Admin | Role::Reviewer => Visibility::All(View::Full),
            Role::Analyst => Visibility::All(View::NoStaff),
            Role::Shopper => Visibility::Own(id),
            Role::Manager => Visibility::Managed(id),
        }),
    }
}

/// Reports are submitted by shoppers, or by integration clients with `reports:write`.
pub fn require_submitter(caller: &AuthUser) -> Result<(), ReportError> {
    match caller.principal {
        Principal::User {
            role: Role::Shopper,
            ..
        } => Ok(()),
        Principal::Client { .. } if caller.scopes.contains(&Scope::ReportsWrite) => Ok(()),
        _ => Err(ReportError::Forbidden(
            "reports are submitted by shoppers, or by integration clients with reports:write",
        )),
    }
}
