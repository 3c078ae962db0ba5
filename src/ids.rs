//! Id newtypes, so that a `LocationId` is never passed where a `UserId` is meant. Stored
//! as TEXT (hyphenated UUIDs); new ids are UUID v7, so they sort by creation time.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        #[serde(transparent)]
        #[schema(value_type = String, format = Uuid)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A new time-ordered id.
            pub fn generate() -> Self {
                $name(uuid::Uuid::now_v7())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map($name)
            }
        }
    };
}

id_type!(
    /// Identifies an organization (tenant).
    OrgId
);
id_type!(
    /// Identifies a user.
    UserId
);
id_type!(
    /// Identifies an integration client; also its OAuth2 `client_id`.
    ClientId
);
id_type!(
    /// Identifies a location.
    LocationId
);
id_type!(
    /// Identifies one version of a questionnaire.
    QuestionnaireId
);
