//! The conformance suite: behaviour every catalog backend (and the remote
//! client) must show. Each case takes an [`Env`](crate::harness::Env); the
//! backend modules run every case listed in [`for_each_case`].

mod bad_input;
mod concurrency;
mod feeds;
mod lineage;
mod metadata;
mod publish;
mod reads;
mod verify;

pub use bad_input::*;
pub use concurrency::*;
pub use feeds::*;
pub use lineage::*;
pub use metadata::*;
pub use publish::*;
pub use reads::*;
pub use verify::*;

/// Calls `$m!(case, case, ...)` with every conformance case (after the
/// tokens following `$m;`, if any).
macro_rules! for_each_case {
    ($m:path $(; $($pre:tt)*)?) => {
        $m!($($($pre)*)?
            namespaces_and_tables_are_managed_and_audited,
            dropped_tables_leave_listings_but_keep_history,
            never_delete_keeps_every_batch_byte_identical,
            rollback_follows_parents,
            rollback_to_and_expect,
            rollback_without_parent_is_a_clear_error,
            publish_with_cas_names_the_current_batch,
            multi_partition_publish_is_all_or_nothing,
            stage_read_and_publish_later,
            idempotent_stage_and_publish_add_no_event,
            schema_mismatch_is_refused_and_merge_adds_columns,
            as_of_returns_the_batch_current_at_each_time,
            pins_hold_batches_and_answer_who_depends,
            partitions_list_with_prefix_range_and_cursor,
            events_filter_paginate_and_feed,
            round_trip_of_every_type_at_a_million_rows,
            reads_project_and_filter,
            unpartitioned_tables_get_a_batch_per_write,
            bad_input_is_refused_and_changes_nothing,
            publishing_broken_batches_is_refused,
            concurrent_publishes_without_cas_serialize,
            concurrent_publishes_with_cas_have_one_winner,
            verify_is_clean_and_finds_missing_files,
            a_run_records_what_it_read_and_rollback_names_what_it_fed,
            a_durable_run_carries_reads_between_processes,
            bad_lineage_inputs_are_refused_and_record_nothing,
            openlineage_feed_has_one_holder_and_a_durable_cursor,
        );
    };
}
pub(crate) use for_each_case;

/// One test per conformance case, each on a fresh `$env().await`: an
/// [`Env`](crate::harness::Env), or an `Option` of one (`None`: a service
/// is missing, and the test skips).
macro_rules! tests_on {
    ($env:path) => {
        crate::conformance::for_each_case!(crate::conformance::tests_on; @cases $env;);
    };
    (@cases $env:path; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let Some(env) = crate::harness::MaybeEnv::env($env().await) else {
                    return;
                };
                crate::conformance::$name(&env).await;
            }
        )*
    };
}
pub(crate) use tests_on;
