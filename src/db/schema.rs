//! Table definitions shared by both backends. Ids are TEXT (UUIDs), timestamps are UTC
//! `TIMESTAMP` without zone, so the same Rust types read both databases.

diesel::table! {
    organizations (id) {
        id -> Text,
        name -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(organizations, settings);
