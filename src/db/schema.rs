//! Table definitions shared by both backends. Ids are TEXT (UUIDs), timestamps are UTC
//! `TIMESTAMP` without zone, so the same Rust types read both databases. Tenant tables are
//! keyed by `(org_id, ...)`; organizations, settings and user_emails are global.

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

diesel::table! {
    users (org_id, id) {
        id -> Text,
        org_id -> Text,
        email -> Text,
        display_name -> Text,
        password_hash -> Text,
        role -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        sessions_valid_after -> Nullable<Timestamp>,
        preferred_language -> Nullable<Text>,
    }
}

diesel::table! {
    integration_clients (org_id, id) {
        id -> Text,
        org_id -> Text,
        name -> Text,
        scopes -> Text,
        secret_hash -> Text,
        active -> Bool,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (org_id, id) {
        id -> Text,
        token_hash -> Text,
        family_id -> Text,
        user_id -> Text,
        org_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// The global sign-in lookup: which organizations have a user with an email (one row
    /// per organization; an email is unique within an organization only).
    user_emails (email, org_id) {
        email -> Text,
        org_id -> Text,
        user_id -> Text,
    }
}

diesel::table! {
    attachments (org_id, id) {
        org_id -> Text,
        id -> Text,
        report_id -> Text,
        revision -> Integer,
        media_type -> Text,
        size -> BigInt,
        sha256 -> Text,
        uploaded_sha256 -> Text,
        storage_key -> Text,
        question -> Nullable<Text>,
        shows_staff -> Bool,
        created_at -> Timestamp,
        capture_minutes_off -> Nullable<Integer>,
        capture_metres_off -> Nullable<Integer>,
    }
}

diesel::table! {
    /// What moved each location's figures, with the event of the move's transaction (see
    /// `aggregates::moves`).
    figure_moves (org_id, event_id) {
        org_id -> Text,
        event_id -> Text,
        location_id -> Text,
        report_id -> Text,
        revision -> Integer,
        questionnaire_key -> Text,
        visit_local_date -> Text,
        kind -> Text,
        counted_before -> Bool,
        score_before -> Nullable<Double>,
        mile_before -> Nullable<Text>,
        counted_after -> Bool,
        score_after -> Nullable<Double>,
        mile_after -> Nullable<Text>,
        at -> Timestamp,
    }
}

diesel::table! {
    /// The bands of reports' narrative signatures (see `reports::plausibility`).
    narrative_bands (org_id, band, report_id) {
        org_id -> Text,
        band -> Text,
        report_id -> Text,
        visit_started_at -> Timestamp,
    }
}

diesel::table! {
    locations (org_id, id) {
        id -> Text,
        org_id -> Text,
        code -> Text,
        name -> Text,
        address_lines -> Text,
        city -> Nullable<Text>,
        postal_code -> Nullable<Text>,
        country -> Nullable<Text>,
        region -> Nullable<Text>,
        timezone -> Text,
        latitude -> Nullable<Double>,
        longitude -> Nullable<Double>,
        tags -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    manager_locations (org_id, user_id, location_id) {
        user_id -> Text,
        location_id -> Text,
        org_id -> Text,
    }
}

diesel::table! {
    questionnaires (org_id, id) {
        id -> Text,
        org_id -> Text,
        key -> Text,
        version -> Integer,
        status -> Text,
        title -> Text,
        content -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        published_at -> Nullable<Timestamp>,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    reports (org_id, id) {
        org_id -> Text,
        id -> Text,
        location_id -> Text,
        questionnaire_id -> Text,
        questionnaire_key -> Text,
        shopper_id -> Text,
        status -> Text,
        revision -> Integer,
        visit_started_at -> Timestamp,
        visit_local_date -> Text,
        overall_score -> Nullable<Double>,
        mile_level -> Text,
        body_hash -> Text,
        document -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        text_pruned_at -> Nullable<Timestamp>,
        plausibility -> Nullable<Integer>,
        visit_ended_at -> Nullable<Timestamp>,
        narrative_signature -> Nullable<Text>,
    }
}

diesel::table! {
    /// Translations of a questionnaire version (see `questionnaires::language`).
    questionnaire_translations (org_id, questionnaire_id, language) {
        org_id -> Text,
        questionnaire_id -> Text,
        language -> Text,
        texts -> Text,
        updated_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    report_revisions (org_id, report_id, revision) {
        org_id -> Text,
        report_id -> Text,
        revision -> Integer,
        body_hash -> Text,
        document -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    report_transitions (org_id, id) {
        id -> Text,
        org_id -> Text,
        report_id -> Text,
        from_status -> Nullable<Text>,
        to_status -> Text,
        action -> Text,
        actor_kind -> Text,
        actor_id -> Text,
        actor_role -> Nullable<Text>,
        note -> Nullable<Text>,
        revision -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    rollups (org_id, period, location_id, questionnaire_key) {
        org_id -> Text,
        location_id -> Text,
        questionnaire_key -> Text,
        period -> Text,
        visits -> BigInt,
        scored_visits -> BigInt,
        score_sum -> Double,
        score_sum_sq -> Double,
        score_min -> Nullable<Double>,
        score_max -> Nullable<Double>,
        zero_mile -> BigInt,
        first_mile -> BigInt,
        second_mile -> BigInt,
        critical_failures -> BigInt,
        h00 -> BigInt,
        h01 -> BigInt,
        h02 -> BigInt,
        h03 -> BigInt,
        h04 -> BigInt,
        h05 -> BigInt,
        h06 -> BigInt,
        h07 -> BigInt,
        h08 -> BigInt,
        h09 -> BigInt,
        h10 -> BigInt,
        h11 -> BigInt,
        h12 -> BigInt,
        h13 -> BigInt,
        h14 -> BigInt,
        h15 -> BigInt,
        h16 -> BigInt,
        h17 -> BigInt,
        h18 -> BigInt,
        h19 -> BigInt,
    }
}

diesel::table! {
    rollup_sections (org_id, period, location_id, questionnaire_key, section_key) {
        org_id -> Text,
        location_id -> Text,
        questionnaire_key -> Text,
        period -> Text,
        section_key -> Text,
        score_sum -> Double,
        scored -> BigInt,
    }
}

diesel::table! {
    rollup_questions (org_id, period, location_id, questionnaire_key, question_key) {
        org_id -> Text,
        location_id -> Text,
        questionnaire_key -> Text,
        period -> Text,
        question_key -> Text,
        applicable -> BigInt,
        full_points -> BigInt,
        earned_sum -> Double,
        possible_sum -> Double,
        zero_mile -> BigInt,
        second_mile -> BigInt,
        full_points_zero_mile -> BigInt,
        full_points_second_mile -> BigInt,
    }
}

diesel::table! {
    programme_settings (org_id) {
        org_id -> Text,
        lockout_days -> Nullable<Integer>,
        max_visits_per_location_per_year -> Nullable<Integer>,
        require_assignment -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    shopper_exclusions (org_id, shopper_id, location_id) {
        org_id -> Text,
        shopper_id -> Text,
        location_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    waves (org_id, id) {
        org_id -> Text,
        id -> Text,
        name -> Text,
        starts_on -> Text,
        ends_on -> Text,
        questionnaire_key -> Text,
        visits_per_location -> Integer,
        region -> Nullable<Text>,
        tag -> Nullable<Text>,
        closed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    assignments (org_id, id) {
        org_id -> Text,
        id -> Text,
        wave_id -> Text,
        location_id -> Text,
        shopper_id -> Nullable<Text>,
        visit_from -> Text,
        visit_to -> Text,
        slot -> Nullable<Text>,
        instructions -> Text,
        status -> Text,
        report_id -> Nullable<Text>,
        decline_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    event_sequences (org_id) {
        org_id -> Text,
        last_seq -> BigInt,
        pruned_through -> BigInt,
    }
}

diesel::table! {
    events (org_id, seq) {
        org_id -> Text,
        seq -> BigInt,
        id -> Text,
        event_type -> Text,
        subject_type -> Text,
        subject_id -> Text,
        occurred_at -> Timestamp,
        data -> Text,
    }
}

diesel::table! {
    /// Events written by the transactions of their changes, not yet numbered by the
    /// sequencer (see `events::sequencer`).
    pending_events (pos) {
        pos -> BigInt,
        org_id -> Text,
        id -> Text,
        event_type -> Text,
        subject_type -> Text,
        subject_id -> Text,
        occurred_at -> Timestamp,
        data -> Text,
    }
}

diesel::table! {
    webhooks (org_id, id) {
        org_id -> Text,
        id -> Text,
        url -> Text,
        description -> Text,
        event_types -> Text,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamp>,
        active -> Bool,
        disabled_reason -> Nullable<Text>,
        disabled_at -> Nullable<Timestamp>,
        failing_since -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (org_id, id) {
        org_id -> Text,
        id -> Text,
        webhook_id -> Text,
        event_id -> Text,
        event_type -> Text,
        body -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        give_up_at -> Nullable<Timestamp>,
        occurred_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_attempts (org_id, id) {
        org_id -> Text,
        id -> Text,
        delivery_id -> Text,
        attempted_at -> Timestamp,
        response_status -> Nullable<Integer>,
        latency_ms -> BigInt,
        error -> Nullable<Text>,
        succeeded -> Bool,
    }
}

diesel::table! {
    organization_settings (org_id) {
        org_id -> Text,
        recognition_names -> Bool,
        action_plans -> Bool,
        appeal_window_days -> Integer,
        updated_at -> Timestamp,
        personal_data_retention_days -> Integer,
    }
}

diesel::table! {
    /// Each change of a location's verdict (see `aggregates::changes`).
    verdict_changes (org_id, id) {
        org_id -> Text,
        id -> Text,
        location_id -> Text,
        report_id -> Text,
        visit_date -> Text,
        previous_verdict -> Text,
        verdict -> Text,
        changed_at -> Timestamp,
    }
}

diesel::table! {
    /// Action plans (see `improvement::plan`).
    action_plans (org_id, id) {
        org_id -> Text,
        id -> Text,
        location_id -> Text,
        cause -> Text,
        status -> Text,
        summary -> Text,
        causes -> Nullable<Text>,
        opened_by -> Nullable<Text>,
        opened_at -> Timestamp,
        planned_at -> Nullable<Timestamp>,
        done_at -> Nullable<Timestamp>,
        verified_at -> Nullable<Timestamp>,
        review_note -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    action_plan_actions (org_id, plan_id, number) {
        org_id -> Text,
        plan_id -> Text,
        number -> Integer,
        description -> Text,
        owner -> Text,
        due_on -> Text,
        done_at -> Nullable<Timestamp>,
        done_note -> Nullable<Text>,
        overdue_recorded -> Bool,
    }
}

diesel::table! {
    action_plan_visits (org_id, plan_id, report_id) {
        org_id -> Text,
        plan_id -> Text,
        report_id -> Text,
        added_at -> Timestamp,
    }
}

diesel::table! {
    /// Managers' appeals against released reports (see `improvement::appeal`).
    appeals (org_id, id) {
        org_id -> Text,
        id -> Text,
        report_id -> Text,
        location_id -> Text,
        appellant_id -> Text,
        status -> Text,
        questions -> Text,
        reason -> Text,
        revision -> Integer,
        amended_revision -> Nullable<Integer>,
        opened_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        decision_note -> Nullable<Text>,
        evidence_key -> Nullable<Text>,
        evidence_media_type -> Nullable<Text>,
        evidence_size -> Nullable<BigInt>,
        evidence_sha256 -> Nullable<Text>,
        evidence_uploaded_sha256 -> Nullable<Text>,
        evidence_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// The audit log (see `audit`).
    audit_entries (org_id, id) {
        org_id -> Text,
        id -> Text,
        at -> Timestamp,
        actor_kind -> Text,
        actor_id -> Text,
        action -> Text,
        target_kind -> Text,
        target_id -> Text,
        before_state -> Nullable<Text>,
        after_state -> Nullable<Text>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    settings,
    users,
    user_emails,
    attachments,
    integration_clients,
    refresh_tokens,
    locations,
    manager_locations,
    questionnaires,
    reports,
    report_revisions,
    report_transitions,
    rollups,
    rollup_sections,
    rollup_questions,
    programme_settings,
    shopper_exclusions,
    waves,
    assignments,
    event_sequences,
    events,
    pending_events,
    webhooks,
    webhook_deliveries,
    webhook_attempts,
    organization_settings,
    verdict_changes,
    action_plans,
    action_plan_actions,
    action_plan_visits,
    appeals,
    audit_entries,
    questionnaire_translations,
    narrative_bands,
    figure_moves,
);
