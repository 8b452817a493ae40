/// The `# HELP` text of every metric the daemon exposes, by name: one place to read what each series means.
///
/// `DocumentedMetricsFactory` gives each family its text when the family is created. A name missing here still gets
/// a HELP line (``fallback``), and the metrics test fails on it.
enum MetricHelp {
    /// HELP text of a metric not listed in ``texts``.
    static let fallback = "vipps-webhookd metric (not described yet)"

    /// The HELP text of `name`.
    static func text(for name: String) -> String {
        texts[name] ?? fallback
    }

    static let texts: [String: String] = [
        "vipps_webhookd_build_info": "Always 1; the version label is the running daemon's version.",
        "vipps_webhookd_http_requests_total":
            "Answered HTTP requests by endpoint (unknown for 404) and status code.",
        "vipps_webhookd_http_request_duration_seconds": "Time from request head to answer.",
        "vipps_webhookd_http_open_connections": "Open client connections.",
        "vipps_webhookd_http_errors_total":
            "Failures the HTTP server handled itself (malformed requests, timeouts, refused connections) by kind.",
        "vipps_webhookd_verification_failures_total":
            "Requests answered 401 by endpoint and reason (bad signature, content hash, date, headers).",
        "vipps_webhookd_events_total": "Authentic events newly journaled, by event type (unknown included).",
        "vipps_webhookd_duplicates_total":
            "Authentic events already journaled (a redelivery), answered 200 and not delivered again.",
        "vipps_webhookd_event_findings_total":
            "Authentic events that break a documented constraint of their type (kept all the same), by type.",
        "vipps_webhookd_unrouted_events_total": "Events no route selected (journaled, delivered nowhere), by endpoint.",
        "vipps_webhookd_sink_deliveries_total": "Finished deliveries of one event to one sink, by sink and outcome.",
        "vipps_webhookd_sink_queue_depth": "Events an exec sink holds in its queue (waiting or running).",
        "vipps_webhookd_sink_overflow": "Events waiting in memory because a sink's hook queue was full.",
        "vipps_webhookd_hook_runs_total": "Hook attempts by sink and outcome (ok, failed, timeout, spawn_error).",
        "vipps_webhookd_dead_letters": "Dead letters waiting now in state_dir/dead-letters, by sink.",
        "vipps_webhookd_dead_letters_total": "Events written to the dead-letter folder, by sink.",
        "vipps_webhookd_dead_letter_write_errors_total":
            "Dead letters that could not be written (the event keeps its place; the write is retried), by sink.",
        "vipps_webhookd_dead_letter_requeues_total": "Dead-letter retries (`dead-letters retry`) by sink and result.",
        "vipps_webhookd_journal_fsync_seconds": "Duration of one journal fdatasync (shared by a batch of events).",
        "vipps_webhookd_journal_batch_size": "Events made durable by one journal fdatasync.",
        "vipps_webhookd_journal_errors_total": "Journal writes or syncs that failed (the events were answered 503).",
        "vipps_webhookd_journal_corrupt_records_total":
            "Damaged journal records skipped by recovery at start (the segment is copied to state_dir/corrupt).",
        "vipps_webhookd_journal_refed_events_total":
            "Events fed to a sink again from the journal after its queue had overflowed, by sink.",
        "vipps_webhookd_storage_errors_total": "Storage failures seen by the daemon, by operation.",
        "vipps_webhookd_dedup_legacy_hits_total":
            "Events taken for duplicates through the pre-upgrade dedup entries (webhook-id or body hash).",
        "vipps_webhookd_dedup_evictions_within_retention_total":
            "Event ids forgotten for room (dedup_max_ids) while still within the 7-day retry horizon.",
        "vipps_webhookd_config_reloads_total": "SIGHUP reloads by result (applied, refused).",
        "vipps_webhookd_state_dir_free_bytes":
            "Bytes free for the daemon on the file system of state_dir (journal, dedup index, dead letters).",
        "vipps_webhookd_state_dir_size_bytes": "Size in bytes of the file system of state_dir.",
        "vipps_webhookd_registration_ok":
            "1 when the endpoint's webhook registration matches its routes; 0 when missing, differing or not checked "
            + "yet (watchdog on only).",
        "vipps_webhookd_registration_check_failures_total":
            "Registration checks that could not ask the Webhooks API, by reason.",
        "vipps_webhookd_signature_failure_streak":
            "1 while the endpoint has answered 401 bad signature to fresh well-formed deliveries beyond the alert time.",
        "vipps_webhookd_reconcile_checks_total": "Payments whose ePayment event log reconciliation asked for.",
        "vipps_webhookd_reconcile_events_added_total":
            "Events found only in the vendor's event log and journaled by reconciliation.",
        "vipps_webhookd_reconcile_api_errors_total":
            "Reconciliation calls that got no usable answer from the ePayment API (nothing journaled for the payment).",
        "vipps_webhookd_reconcile_errors_total":
            "Payments reconciliation left unfinished for another reason: endpoint not configured, journal write failed.",
        "vipps_webhookd_payment_ledger_errors_total":
            "Failed writes of payments.log (the payments reconciliation knows); retried.",
        "vipps_webhookd_payment_ledger_damaged_lines_total":
            "Damaged lines of payments.log dropped on open or by a compaction (the file is copied to state_dir/corrupt).",
        "vipps_webhookd_payment_ledger_dropped_lines_total":
            "Lines of payments.log never written: its pending lines were at their bound (4 MiB) while writes failed.",
    ]
}
