//! How domain types are stored: id newtypes and closed sets (statuses, roles, levels) as
//! TEXT, the same on both backends. Implemented here, for types defined in the domain
//! modules, so that only `db` knows Diesel. A stored value this version cannot read is a
//! deserialization error (corrupt data), never a guess.

use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;
use diesel::{AsExpression, FromSqlRow};

use super::MultiBackend;

/// Stores `$ty` as TEXT through `$to` (to a `String`) and `$from` (from `&str` to a
/// `Result<$ty, String>`).
macro_rules! stored_as_text {
    ($ty:ty, $to:expr, $from:expr) => {
        const _: () = {
            // A stand-in that lets Diesel's derives implement its traits for `$ty`.
            #[derive(AsExpression, FromSqlRow)]
            #[diesel(foreign_derive, sql_type = Text)]
            #[allow(dead_code)]
            struct Stored($ty);
        };

        impl ToSql<Text, Pg> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                use std::io::Write;
                let text: String = ($to)(self);
                out.write_all(text.as_bytes())?;
                Ok(IsNull::No)
            }
        }

        impl ToSql<Text, Sqlite> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                let text: String = ($to)(self);
                out.set_value(text);
                Ok(IsNull::No)
            }
        }

        impl ToSql<Text, MultiBackend> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((Text, self));
                Ok(IsNull::No)
            }
        }

        impl FromSql<Text, Pg> for $ty {
            fn from_sql(
                bytes: <Pg as diesel::backend::Backend>::RawValue<'_>,
            ) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
                ($from)(text.as_str()).map_err(Into::into)
            }
        }

        impl FromSql<Text, Sqlite> for $ty {
            fn from_sql(
                bytes: <Sqlite as diesel::backend::Backend>::RawValue<'_>,
            ) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, Sqlite>>::from_sql(bytes)?;
                ($from)(text.as_str()).map_err(Into::into)
            }
        }

        impl FromSql<Text, MultiBackend> for $ty {
            fn from_sql(
                bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>,
            ) -> deserialize::Result<Self> {
                bytes.from_sql::<Self, Text>()
            }
        }
    };
}

/// Ids: hyphenated lower-case UUIDs.
macro_rules! stored_ids {
    ($($id:ident),+ $(,)?) => {
        $(
            stored_as_text!(
                crate::ids::$id,
                |v: &crate::ids::$id| v.to_string(),
                |s: &str| s.parse::<crate::ids::$id>()
                    .map_err(|_| format!("bad stored {} `{s}`", stringify!($id)))
            );
        )+
    };
}

stored_ids!(
    OrgId,
    UserId,
    ClientId,
    LocationId,
    QuestionnaireId,
    ReportId,
    TransitionId,
    TokenId,
    FamilyId,
    AttachmentId,
    WaveId,
    AssignmentId,
    EventId,
    WebhookId,
    DeliveryId,
    AttemptId,
    ActionPlanId,
    AppealId,
    AuditId
);

/// Closed sets stored by name: `as_str` to write, `parse` (an `Option`) to read.
macro_rules! stored_names {
    ($($ty:path),+ $(,)?) => {
        $(
            stored_as_text!(
                $ty,
                |v: &$ty| v.as_str().to_string(),
                |s: &str| <$ty>::parse(s).ok_or_else(|| format!("bad stored value `{s}`"))
            );
        )+
    };
}

stored_names!(
    crate::reports::model::ReportStatus,
    crate::reports::scoring::MileLevel,
    crate::reports::workflow::Action,
    crate::reports::workflow::ActorKind,
    crate::questionnaires::model::Status,
    crate::auth::model::Role,
    crate::programme::model::AssignmentStatus,
    crate::programme::schedule::Slot,
    crate::aggregates::figures::VerdictName,
    crate::improvement::plan::Cause,
    crate::improvement::plan::PlanStatus,
    crate::improvement::appeal::AppealStatus,
);
