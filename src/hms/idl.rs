//! The exceptions each method of the Hive 2.3 `ThriftHiveMetastore`
//! service declares, by result field id, derived from `hive_metastore.thrift`
//! (Apache Hive, branch-2.3; Apache-2.0). A reply can only carry an exception
//! its method declares: a client ignores any other field.

/// `(method, [(result field id, exception struct)])`, in IDL order.
#[rustfmt::skip]
pub(crate) const THROWS: &[(&str, &[(i16, &str)])] = &[
    ("getMetaConf", &[(1, "MetaException")]),
    ("setMetaConf", &[(1, "MetaException")]),
    ("create_database", &[(1, "AlreadyExistsException"), (2, "InvalidObjectException"), (3, "MetaException")]),
    ("get_database", &[(1, "NoSuchObjectException"), (2, "MetaException")]),
    ("drop_database", &[(1, "NoSuchObjectException"), (2, "InvalidOperationException"), (3, "MetaException")]),
    ("get_databases", &[(1, "MetaException")]),
    ("get_all_databases", &[(1, "MetaException")]),
    ("alter_database", &[(1, "MetaException"), (2, "NoSuchObjectException")]),
    ("get_type", &[(1, "MetaException"), (2, "NoSuchObjectException")]),
    ("create_type", &[(1, "AlreadyExistsException"), (2, "InvalidObjectException"), (3, "MetaException")]),
    ("drop_type", &[(1, "MetaException"), (2, "NoSuchObjectException")]),
    ("get_type_all", &[(1, "MetaException")]),
    ("get_fields", &[(1, "MetaException"), (2, "UnknownTableException"), (3, "UnknownDBException")]),
    ("get_fields_with_environment_context", &[(1, "MetaException"), (2, "UnknownTableException"), (3, "UnknownDBException")]),
    ("get_schema", &[(1, "MetaException"), (2, "UnknownTableException"), (3, "UnknownDBException")]),
    ("get_schema_with_environment_context", &[(1, "MetaException"), (2, "UnknownTableException"), (3, "UnknownDBException")]),
    ("create_table", &[(1, "AlreadyExistsException"), (2, "InvalidObjectException"), (3, "MetaException"), (4, "NoSuchObjectException")]),
    ("create_table_with_environment_context", &[(1, "AlreadyExistsException"), (2, "InvalidObjectException"), (3, "MetaException"), (4, "NoSuchObjectException")]),
    ("create_table_with_constraints", &[(1, "AlreadyExistsException"), (2, "InvalidObjectException"), (3, "MetaException"), (4, "NoSuchObjectException")]),
    ("drop_constraint", &[(1, "NoSuchObjectException"), (2, "MetaException")]),
    ("add_primary_key", &[(1, "NoSuchObjectException"), (2, "MetaException")]),
    ("add_foreign_key", &[(1, "NoSuchObjectException"), (2, "MetaException")]),
    ("drop_table", &[(1, "NoSuchObjectException"), (2, "MetaException")]),
    ("drop_table_with_environment_context", &[(1, "NoSuchObjectException"), (2, "MetaException")]),
    ("get_tables", &[(1, "MetaException")]),
    ("get_tables_by_type", &[(1, "MetaException")]),
    ("get_table_meta", &[(1, "MetaException")]),
    ("get_all_tables", &[(1, "MetaException")]),
    ("get_table", &[(1, "MetaException"), (2, "NoSuchObjectException")]),
    ("get_table_objects_by_name", &[(1, "MetaException"), (2, "InvalidOperationException"), (3, "UnknownDBException")]),
    ("get_table_req", &[(1, "MetaException"), (2, "NoSuchObjectException")]),
    ("get_table_objects_by_name_req", &[(1, "MetaException"), (2, "InvalidOperationException"), (3, "UnknownDBException")]),
    ("get_table_names_by_filter", &[(1, "MetaException"), (2, "InvalidOperationException"), (3, "UnknownDBException")]),
    ("alter_table", &[(1, "InvalidOperationException"), (2, "MetaException")]),
    ("alter_table_with_environment_context", &[(1, "InvalidOperationException"), (2, "MetaException")]),
    ("alter_table_with_cascade", &[(1, "InvalidOperationException"), (2, "MetaException")]),
    ("add_partition", &[(1, "InvalidObjectException"), (2, "AlreadyExistsException"), (3, "MetaException")]),
    ("add_partition_with_environment_context", &[(1, "InvalidObjectException"), (2, "AlreadyExistsException"), (3, "MetaException")]),
    ("add_partitions", &[(1, "InvalidObjectException"), (2, "AlreadyExistsException"), (3, "MetaException")]),
    ("add_partitions_pspec", &[(1, "InvalidObjectException"), (2, "AlreadyExistsException"), (3, "MetaException")]),
    ("append_partition", &[(1, "InvalidObjectException"), (2, "AlreadyExistsException"), (3, "MetaException")]),
    ("add_partitions_req", &[(1, "InvalidObjectException"), (2, "AlreadyExistsException"), (3, "MetaException")]),
    ("append_partition_with_environment_context", &[(1, "InvalidObjectException"), (2, "AlreadyExistsException"), (3, "MetaException")]),
    ("append_partition_by_name", &[(1, "InvalidObjectException"), (2, "AlreadyExistsException"), (3, "MetaException")]),
    ("append_partition_by_name_with_environment_context", &[(1, "InvalidObjectException"), (2, "AlreadyExistsException"), (3, "MetaException")]),
    ("drop_partition", &[(1, "NoSuchObjectException"), (2, "MetaException")]),
    ("drop_partition_with_environment_context", &[(1, "NoSuchObjectException"), (2, "MetaException")]),
    ("drop_partition_by_name", &[(1, "NoSuchObjectException"), (2, "MetaException")]),
    ("drop_partition_by_name_with_environment_context", &[(1, "NoSuchObjectException"), (2, "MetaException")]),
    ("drop_partitions_req", &[(1, "NoSuchObjectException"), (2, "MetaException")]),
    ("get_partition", &[(1, "MetaException"), (2, "NoSuchObjectException")]),
    ("exchange_partition", &[(1, "MetaException"), (2, "NoSuchObjectException"), (3, "InvalidObjectException"), (4, "InvalidInputException")]),
    ("exchange_partitions", &[(1, "MetaException"), (2, "NoSuchObjectException"), (3, "InvalidObjectException"), (4, "InvalidInputException")]),
    ("get_partition_with_auth", &[(1, "MetaException"), (2, "NoSuchObjectException")]),
    ("get_partition_by_name", &[(1, "MetaException"), (2, "NoSuchObjectException")]),
    ("get_partitions", &[(1, "NoSuchObjectException"), (2, "MetaException")]),
    ("get_partitions_with_auth", &[(1, "NoSuchObjectException"), (2, "MetaException")]),
    ("get_partitions_pspec", &[(1, "NoSuchObjectException"), (2, "MetaException")]),
    ("get_partition_names", &[(1, "MetaException")]),
    ("get_partition_values", &[(1, "MetaException"), (2, "NoSuchObjectException")]),
    ("get_partitions_ps", &[(1, "MetaException"), (2, "NoSuchObjectException")]),
    ("get_partitions_ps_with_auth", &[(1, "NoSuchObjectException"), (2, "MetaException")]),
    ("get_partition_names_ps", &[(1, "MetaException"), (2, "NoSuchObjectException")]),
    ("get_partitions_by_filter", &[(1, "MetaException"), (2, "NoSuchObjectException")]),
    ("get_part_specs_by_filter", &[(1, "MetaException"), (2, "NoSuchObjectException")]),
    ("get_partitions_by_expr", &[(1, "MetaException"), (2, "NoSuchObjectException")]),
    ("get_num_partitions_by_filter", &[(1, "MetaException"), (2, "NoSuchObjectException")]),
    ("get_partitions_by_names", &[(1, "MetaException"), (2, "NoSuchObjectException")]),
    ("alter_partition", &[(1, "InvalidOperationException"), (2, "MetaException")]),
    ("alter_partitions", &[(1, "InvalidOperationException"), (2, "MetaException")]),
    ("alter_partitions_with_environment_context", &[(1, "InvalidOperationException"), (2, "MetaException")]),
    ("alter_partition_with_environment_context", &[(1, "InvalidOperationException"), (2, "MetaException")]),
    ("rename_partition", &[(1, "InvalidOperationException"), (2, "MetaException")]),
    ("partition_name_has_valid_characters", &[(1, "MetaException")]),
    ("get_config_value", &[(1, "ConfigValSecurityException")]),
    ("partition_name_to_vals", &[(1, "MetaException")]),
    ("partition_name_to_spec", &[(1, "MetaException")]),
    ("markPartitionForEvent", &[(1, "MetaException"), (2, "NoSuchObjectException"), (3, "UnknownDBException"), (4, "UnknownTableException"), (5, "UnknownPartitionException"), (6, "InvalidPartitionException")]),
    ("isPartitionMarkedForEvent", &[(1, "MetaException"), (2, "NoSuchObjectException"), (3, "UnknownDBException"), (4, "UnknownTableException"), (5, "UnknownPartitionException"), (6, "InvalidPartitionException")]),
    ("add_index", &[(1, "InvalidObjectException"), (2, "AlreadyExistsException"), (3, "MetaException")]),
    ("alter_index", &[(1, "InvalidOperationException"), (2, "MetaException")]),
    ("drop_index_by_name", &[(1, "NoSuchObjectException"), (2, "MetaException")]),
    ("get_index_by_name", &[(1, "MetaException"), (2, "NoSuchObjectException")]),
    ("get_indexes", &[(1, "NoSuchObjectException"), (2, "MetaException")]),
    ("get_index_names", &[(1, "MetaException")]),
    ("get_primary_keys", &[(1, "MetaException"), (2, "NoSuchObjectException")]),
    ("get_foreign_keys", &[(1, "MetaException"), (2, "NoSuchObjectException")]),
    ("update_table_column_statistics", &[(1, "NoSuchObjectException"), (2, "InvalidObjectException"), (3, "MetaException"), (4, "InvalidInputException")]),
    ("update_partition_column_statistics", &[(1, "NoSuchObjectException"), (2, "InvalidObjectException"), (3, "MetaException"), (4, "InvalidInputException")]),
    ("get_table_column_statistics", &[(1, "NoSuchObjectException"), (2, "MetaException"), (3, "InvalidInputException"), (4, "InvalidObjectException")]),
    ("get_partition_column_statistics", &[(1, "NoSuchObjectException"), (2, "MetaException"), (3, "InvalidInputException"), (4, "InvalidObjectException")]),
    ("get_table_statistics_req", &[(1, "NoSuchObjectException"), (2, "MetaException")]),
    ("get_partitions_statistics_req", &[(1, "NoSuchObjectException"), (2, "MetaException")]),
    ("get_aggr_stats_for", &[(1, "NoSuchObjectException"), (2, "MetaException")]),
    ("set_aggr_stats_for", &[(1, "NoSuchObjectException"), (2, "InvalidObjectException"), (3, "MetaException"), (4, "InvalidInputException")]),
    ("delete_partition_column_statistics", &[(1, "NoSuchObjectException"), (2, "MetaException"), (3, "InvalidObjectException"), (4, "InvalidInputException")]),
    ("delete_table_column_statistics", &[(1, "NoSuchObjectException"), (2, "MetaException"), (3, "InvalidObjectException"), (4, "InvalidInputException")]),
    ("create_function", &[(1, "AlreadyExistsException"), (2, "InvalidObjectException"), (3, "MetaException"), (4, "NoSuchObjectException")]),
    ("drop_function", &[(1, "NoSuchObjectException"), (2, "MetaException")]),
    ("alter_function", &[(1, "InvalidOperationException"), (2, "MetaException")]),
    ("get_functions", &[(1, "MetaException")]),
    ("get_function", &[(1, "MetaException"), (2, "NoSuchObjectException")]),
    ("get_all_functions", &[(1, "MetaException")]),
    ("create_role", &[(1, "MetaException")]),
    ("drop_role", &[(1, "MetaException")]),
    ("get_role_names", &[(1, "MetaException")]),
    ("grant_role", &[(1, "MetaException")]),
    ("revoke_role", &[(1, "MetaException")]),
    ("list_roles", &[(1, "MetaException")]),
    ("grant_revoke_role", &[(1, "MetaException")]),
    ("get_principals_in_role", &[(1, "MetaException")]),
    ("get_role_grants_for_principal", &[(1, "MetaException")]),
    ("get_privilege_set", &[(1, "MetaException")]),
    ("list_privileges", &[(1, "MetaException")]),
    ("grant_privileges", &[(1, "MetaException")]),
    ("revoke_privileges", &[(1, "MetaException")]),
    ("grant_revoke_privileges", &[(1, "MetaException")]),
    ("set_ugi", &[(1, "MetaException")]),
    ("get_delegation_token", &[(1, "MetaException")]),
    ("renew_delegation_token", &[(1, "MetaException")]),
    ("cancel_delegation_token", &[(1, "MetaException")]),
    ("add_token", &[]),
    ("remove_token", &[]),
    ("get_token", &[]),
    ("get_all_token_identifiers", &[]),
    ("add_master_key", &[(1, "MetaException")]),
    ("update_master_key", &[(1, "NoSuchObjectException"), (2, "MetaException")]),
    ("remove_master_key", &[]),
    ("get_master_keys", &[]),
    ("get_open_txns", &[]),
    ("get_open_txns_info", &[]),
    ("open_txns", &[]),
    ("abort_txn", &[(1, "NoSuchTxnException")]),
    ("abort_txns", &[(1, "NoSuchTxnException")]),
    ("commit_txn", &[(1, "NoSuchTxnException"), (2, "TxnAbortedException")]),
    ("lock", &[(1, "NoSuchTxnException"), (2, "TxnAbortedException")]),
    ("check_lock", &[(1, "NoSuchTxnException"), (2, "TxnAbortedException"), (3, "NoSuchLockException")]),
    ("unlock", &[(1, "NoSuchLockException"), (2, "TxnOpenException")]),
    ("show_locks", &[]),
    ("heartbeat", &[(1, "NoSuchLockException"), (2, "NoSuchTxnException"), (3, "TxnAbortedException")]),
    ("heartbeat_txn_range", &[]),
    ("compact", &[]),
    ("compact2", &[]),
    ("show_compact", &[]),
    ("add_dynamic_partitions", &[(1, "NoSuchTxnException"), (2, "TxnAbortedException")]),
    ("get_next_notification", &[]),
    ("get_current_notificationEventId", &[]),
    ("fire_listener_event", &[]),
    ("flushCache", &[]),
    ("get_file_metadata_by_expr", &[]),
    ("get_file_metadata", &[]),
    ("put_file_metadata", &[]),
    ("clear_file_metadata", &[]),
    ("cache_file_metadata", &[]),
];

/// The result field id of `exception` in `method`'s result, if declared.
pub(crate) fn exception_id(method: &str, exception: &str) -> Option<i16> {
    THROWS
        .iter()
        .find(|(m, _)| *m == method)
        .and_then(|(_, ex)| ex.iter().find(|(_, e)| *e == exception))
        .map(|(id, _)| *id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_match_the_idl() {
        assert_eq!(THROWS.len(), 154);
        assert_eq!(
            super::exception_id("get_table", "NoSuchObjectException"),
            Some(2)
        );
        assert_eq!(
            super::exception_id("get_partitions", "NoSuchObjectException"),
            Some(1)
        );
        assert_eq!(
            super::exception_id("add_partitions_req", "MetaException"),
            Some(3)
        );
        assert_eq!(
            super::exception_id("get_config_value", "MetaException"),
            None
        );
    }
    use super::THROWS;
}
