//! Data-first writes: a table created from the first data written to it,
//! and one frame split by its partition key columns and published in one
//! all-or-nothing commit (`store_dataframe(df, ..., partition_by=[...])`).

use std::collections::BTreeMap;

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch, UInt32Array};
use arrow_schema::{DataType, Schema, SchemaRef};
use futures::{Stream, StreamExt, TryStreamExt};

use super::Metastore;
use super::publish::{Known, PublishOptions, PublishSpec};
use super::store::StoreOptions;
use super::writes::{StageOptions, Written, check_schema};
use crate::ErrorKind;
use crate::error::{Code, Error, Object, Result};
use crate::model::{
    Batch, BatchState, Casts, Commit, Context, Expect, Hint, KeyType, Namespace, NamespaceName,
    NewTable, PartitionKey, PartitionSpec, PartitionValues, Table, TableIdent, shown,
};

/// Partitions of one `partition_by` store written at the same time.
const PARALLEL_PARTITION_WRITES: usize = 8;

/// The result of [`Metastore::store_partitioned`]: every partition's
/// published batch and the one commit that published them all.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StoredPartitions {
    /// The published batches, with their files, in partition order.
    pub batches: Vec<Batch>,
    /// The commit (one event per partition, one commit id).
    pub commit: Commit,
    /// Whether this write created the table.
    pub created_table: bool,
}

/// A [`Table`] value for a table not created yet, for checks.
fn draft_table(new: &NewTable) -> Table {
    Table {
        ident: new.ident.clone(),
        schema: new.schema.clone(),
        schema_version: 0,
        partition_keys: new.partition_keys.clone(),
        location: String::new(),
        description: None,
        owner: None,
        properties: Default::default(),
        created_at: chrono::Utc::now(),
        updated_at: chrono::Utc::now(),
    }
}

/// The partition key type a column of this Arrow type gets: integers →
/// `int`, dates → `date`, text (and dictionary-encoded text) → `string`.
pub fn key_type_of(column: &str, data_type: &DataType) -> Result<KeyType> {
    match data_type {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => Ok(KeyType::Int),
        DataType::Date32 | DataType::Date64 => Ok(KeyType::Date),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Ok(KeyType::String),
        DataType::Dictionary(_, v) => key_type_of(column, v),
        other => Err(Error::invalid(
            Code::InvalidPartitionKey,
            format!(
                "column {} has type {other}, but a partition key must hold text, integers or dates: convert the column (e.g. timestamps to dates) first",
                shown(column)
            ),
        )),
    }
}

/// The definition of a table for data of `schema`, partitioned by `keys`
/// (name, and a type for keys that are not columns of the data; a key that
/// is a column takes its type from the column, a key that is neither is a
/// string). The key columns are left out of the table's schema (partition
/// values live in paths); the schema's metadata (pandas index and dtypes) is kept.
pub fn table_for_data(
    ident: &TableIdent,
    schema: &Schema,
    keys: &[(String, Option<KeyType>)],
) -> Result<NewTable> {
    let mut partition_keys = Vec::with_capacity(keys.len());
    for (name, hint) in keys {
        let kind = match schema.field_with_name(name) {
            Ok(f) => key_type_of(name, f.data_type())?,
            Err(_) => hint.unwrap_or(KeyType::String),
        };
        partition_keys.push(PartitionKey::new(name, kind)?);
    }
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .filter(|f| !keys.iter().any(|(k, _)| k == f.name()))
        .cloned()
        .collect();
    let new = NewTable {
        ident: ident.clone(),
        schema: Schema::new_with_metadata(fields, schema.metadata().clone()),
        partition_keys,
        description: None,
        owner: None,
        properties: Default::default(),
    };
    super::writes::check_new_table(&new)?;
    Ok(new)
}

impl Metastore {
    /// Gets a table, or creates it as `new` describes. Returns the table and
    /// whether this call created it. The namespace must exist: creating one
    /// is deliberate (`create_namespace`), so a typo such as `slaes` fails
    /// with `namespace_not_found` (and "did you mean `sales`") instead of
    /// creating a namespace nobody asked for. Two writers creating the same
    /// table at once both succeed: the loser gets the winner's table.
    pub async fn ensure_table(&self, ctx: &Context, new: &NewTable) -> Result<(Table, bool)> {
        match self.table(&new.ident).await {
            Ok(t) => return Ok((t, false)),
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        self.require_namespace(&new.ident.namespace).await?;
        match self.create_table(ctx, new).await {
            Ok(t) => Ok((t, true)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                Ok((self.table(&new.ident).await?, false))
            }
            Err(e) => Err(e),
        }
    }

    /// The namespace, or `namespace_not_found` whose hint names the closest
    /// existing namespace when there is one.
    pub async fn require_namespace(&self, name: &NamespaceName) -> Result<Namespace> {
        match self.namespace(name).await {
            Err(e) if e.kind() == ErrorKind::NotFound => {
                let names: Vec<String> = self
                    .namespaces()
                    .await?
                    .into_iter()
                    .map(|n| n.name.as_str().to_owned())
                    .collect();
                Err(crate::model::missing_namespace(name, &names))
            }
            other => other,
        }
    }

    /// Splits the data by its partition key columns (`key_columns` must be
    /// exactly the table's keys) and publishes every partition in one
    /// all-or-nothing commit. Every partition value is validated and the
    /// schema checked before anything is staged; when a later step fails
    /// (a write, a conflict at publish), the staged batches are discarded
    /// and nothing is published.
    ///
    /// `options.expect` may only be [`Expect::Empty`] (every partition must
    /// be new): a batch ID names one partition's batch.
    #[expect(
        clippy::too_many_arguments,
        reason = "store's arguments plus the table to create"
    )]
    pub async fn store_partitioned<S>(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        key_columns: &[String],
        schema: SchemaRef,
        stream: S,
        options: &StoreOptions,
        create: Option<&NewTable>,
    ) -> Result<StoredPartitions>
    where
        S: Stream<Item = Result<RecordBatch>> + Send + Unpin,
    {
        let batches: Vec<RecordBatch> = stream.try_collect().await?;
        let (t, created_table) = match (self.table(ident).await, create) {
            (Ok(t), _) => (t, false),
            (Err(e), Some(new)) if e.kind() == ErrorKind::NotFound && new.ident == *ident => {
                // Check everything a first write can get wrong before the
                // table exists, so that bad input creates nothing.
                let draft = draft_table(new);
                check_key_columns(&draft, key_columns, &schema)?;
                split_by_keys(&draft.partition_keys, &batches)?;
                self.ensure_table(ctx, new).await?
            }
            (Err(e), _) => return Err(e),
        };
        check_key_columns(&t, key_columns, &schema)?;
        if matches!(options.expect, Some(Expect::Batch(_))) {
            return Err(Error::invalid(
                Code::InvalidExpect,
                "expected_batch names one partition's batch, so it cannot apply to a partition_by write: use \"none\" (every partition must be new) or store each partition on its own",
            ));
        }
        let data_schema = Schema::new_with_metadata(
            schema
                .fields()
                .iter()
                .filter(|f| !key_columns.contains(f.name()))
                .cloned()
                .collect::<Vec<_>>(),
            schema.metadata().clone(),
        );
        check_schema(
            &t.ident,
            &t.schema,
            &data_schema,
            options.schema_mode,
            Casts::Lossless,
        )?;
        let groups = split_by_keys(&t.partition_keys, &batches)?;
        if groups.is_empty() {
            return Err(Error::invalid(
                Code::EmptyBatch,
                "the data has no rows, so there is no partition to store",
            ));
        }
        let specs: Vec<PartitionSpec> = groups
            .iter()
            .map(|(values, _)| PartitionSpec::Named(values.pairs().to_vec()))
            .collect();
        let (inputs, metadata) = self
            .store_inputs(&options.inputs, &options.metadata)
            .await?;
        let staged = self
            .stage_into(
                ctx,
                &t,
                &specs,
                &StageOptions {
                    idempotency_key: options.idempotency_key.clone(),
                    message: options.message.clone(),
                    metadata,
                },
            )
            .await?;
        if staged.len() != groups.len() {
            return Err(Error::Internal(format!(
                "staged {} batches for {} partitions",
                staged.len(),
                groups.len()
            )));
        }
        let fresh: Vec<bool> = staged
            .iter()
            .map(|b| b.state == BatchState::Staged && b.files.is_empty())
            .collect();
        let result = async {
            // Partitions are written side by side: on S3 the PUTs overlap,
            // on a local disk the syncs of many files share journal commits.
            // Collected first: a lazy iterator of closures here makes the
            // future not `Send` for every lifetime (rust-lang/rust#102211).
            let mut writes = Vec::with_capacity(staged.len());
            for ((b, (_, rows)), is_fresh) in staged.iter().zip(groups).zip(&fresh) {
                if *is_fresh {
                    let stream = futures::stream::iter(rows.into_iter().map(Ok));
                    writes.push(self.write_data(
                        &t,
                        b,
                        schema.clone(),
                        stream,
                        options.schema_mode,
                    ));
                }
            }
            let (written, pending) = Written::split(
                futures::stream::iter(writes)
                    .buffer_unordered(PARALLEL_PARTITION_WRITES)
                    .try_collect()
                    .await?,
            );
            let publish: Vec<PublishSpec> = staged
                .iter()
                .zip(&specs)
                .map(|(b, spec)| PublishSpec {
                    partition: spec.clone(),
                    batch: b.id.clone(),
                    expect: options.expect.clone(),
                })
                .collect();
            let opts = PublishOptions {
                schema_mode: options.schema_mode,
                message: None,
                inputs,
            };
            let known = Known {
                table: Some(&t),
                written: &written,
                pending: &pending,
            };
            self.publish_known(ctx, ident, &publish, &opts, known).await
        }
        .await;
        let commit = match result {
            Ok(c) => c,
            Err(e) => {
                for (b, is_fresh) in staged.iter().zip(&fresh) {
                    if *is_fresh {
                        self.abandon_failed_store(ident, b).await;
                    }
                }
                return Err(e);
            }
        };
        self.stored_in_run().await?;
        let ids: Vec<_> = staged.iter().map(|b| b.id.clone()).collect();
        Ok(StoredPartitions {
            batches: self.catalog.get_batches(ident, &ids).await?,
            commit,
            created_table,
        })
    }
}

impl Metastore {
    /// The table a write goes into, as it is (`None` when it does not exist
    /// yet), and the table the write creates when it does not: from the
    /// data's `schema` and the partition `keys` the write names. A write
    /// that names no keys (`None`) into a table that does not exist is
    /// refused, a misspelled namespace first (with its did-you-mean).
    pub async fn table_or_draft(
        &self,
        ident: &TableIdent,
        schema: &Schema,
        keys: Option<&[(String, Option<KeyType>)]>,
    ) -> Result<(Option<Table>, Option<NewTable>)> {
        match self.table(ident).await {
            Ok(t) => Ok((Some(t), None)),
            Err(e) if e.kind() == ErrorKind::NotFound => match keys {
                Some(keys) => Ok((None, Some(table_for_data(ident, schema, keys)?))),
                None => {
                    self.require_namespace(&ident.namespace).await?;
                    Err(Error::not_found_hint(
                        Object::Table,
                        ident.to_string(),
                        Hint::FirstWrite,
                    ))
                }
            },
            Err(e) => Err(e),
        }
    }
}

/// The key columns must be the table's partition keys (any order), and
/// each must be a column of the data.
fn check_key_columns(t: &Table, key_columns: &[String], schema: &Schema) -> Result<()> {
    let keys: Vec<&str> = t.partition_keys.iter().map(|k| k.name.as_str()).collect();
    let mut given: Vec<&str> = key_columns.iter().map(String::as_str).collect();
    given.sort_unstable();
    let mut want = keys.clone();
    want.sort_unstable();
    if given != want {
        return Err(Error::invalid(
            Code::InvalidPartitionBy,
            if keys.is_empty() {
                format!(
                    "table {} is not partitioned, so partition_by cannot split the data: leave it out",
                    t.ident
                )
            } else {
                format!(
                    "partition_by must name the partition keys of {}: {}",
                    t.ident,
                    keys.join(", ")
                )
            },
        ));
    }
    for k in key_columns {
        if schema.field_with_name(k).is_err() {
            return Err(Error::invalid(
                Code::InvalidPartitionBy,
                format!("partition_by column {} is not in the data", shown(k)),
            ));
        }
    }
    Ok(())
}

/// Groups the rows of `batches` by their partition key values (validated
/// against the table's keys), in partition order.
fn split_by_keys(
    keys: &[PartitionKey],
    batches: &[RecordBatch],
) -> Result<Vec<(PartitionValues, Vec<RecordBatch>)>> {
    let mut groups: BTreeMap<PartitionValues, Vec<RecordBatch>> = BTreeMap::new();
    for batch in batches {
        if batch.num_rows() == 0 {
            continue;
        }
        // The keys as their canonical text (ints in decimal, dates as
        // YYYY-MM-DD), the same text the partition's path holds.
        let mut texts = Vec::with_capacity(keys.len());
        for k in keys {
            let col = batch.column_by_name(k.name.as_str()).ok_or_else(|| {
                Error::invalid(
                    Code::InvalidPartitionBy,
                    format!("partition_by column {} is not in the data", k.name),
                )
            })?;
            let text = arrow_cast::cast(col, &DataType::Utf8)?;
            texts.push(text);
        }
        let mut rows: BTreeMap<Vec<String>, Vec<u32>> = BTreeMap::new();
        for row in 0..batch.num_rows() {
            let mut key = Vec::with_capacity(texts.len());
            for (k, text) in keys.iter().zip(&texts) {
                if text.is_null(row) {
                    return Err(Error::invalid(
                        Code::InvalidPartition,
                        format!(
                            "partition key column {} is null in a row: every row needs a partition value",
                            k.name
                        ),
                    ));
                }
                key.push(text.as_string::<i32>().value(row).to_owned());
            }
            let row = u32::try_from(row).map_err(|_| {
                Error::invalid(Code::TooLarge, "a record batch over 4 billion rows")
            })?;
            rows.entry(key).or_default().push(row);
        }
        for (key, indices) in rows {
            let pairs: Vec<(String, String)> =
                keys.iter().map(|k| k.name.to_string()).zip(key).collect();
            let values = PartitionValues::resolve(keys, &PartitionSpec::Named(pairs))?;
            let taken = arrow_select::take::take_record_batch(batch, &UInt32Array::from(indices))?;
            groups.entry(values).or_default().push(taken);
        }
    }
    Ok(groups.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Int64Array, StringArray};
    use arrow_schema::Field;
    use std::sync::Arc;

    #[test]
    fn key_types_follow_column_types() {
        assert_eq!(key_type_of("a", &DataType::Int32).unwrap(), KeyType::Int);
        assert_eq!(key_type_of("a", &DataType::Date32).unwrap(), KeyType::Date);
        assert_eq!(
            key_type_of(
                "a",
                &DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8))
            )
            .unwrap(),
            KeyType::String
        );
        assert!(key_type_of("a", &DataType::Float64).is_err());
    }

    #[test]
    fn tables_for_data_leave_keys_out_and_keep_metadata() {
        let schema = Schema::new_with_metadata(
            vec![
                Field::new("region", DataType::Utf8, false),
                Field::new("n", DataType::Int64, true),
            ],
            std::collections::HashMap::from([("pandas".to_owned(), "{}".to_owned())]),
        );
        let ident = TableIdent::new("sales", "t").unwrap();
        let t = table_for_data(
            &ident,
            &schema,
            &[("region".into(), None), ("day".into(), Some(KeyType::Date))],
        )
        .unwrap();
        assert_eq!(t.schema.fields().len(), 1);
        assert_eq!(t.schema.metadata()["pandas"], "{}");
        assert_eq!(t.partition_keys[0].kind, KeyType::String);
        assert_eq!(t.partition_keys[1].kind, KeyType::Date);
    }

    #[test]
    fn rows_are_grouped_and_values_validated() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("region", DataType::Utf8, true),
            Field::new("n", DataType::Int64, false),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec!["us", "eu", "us"])),
                Arc::new(Int64Array::from(vec![1, 2, 3])),
            ],
        )
        .unwrap();
        let table = Table {
            ident: TableIdent::new("sales", "t").unwrap(),
            schema: Schema::new(vec![Field::new("n", DataType::Int64, false)]),
            schema_version: 1,
            partition_keys: vec![PartitionKey::new("region", KeyType::String).unwrap()],
            location: "sales/t".into(),
            description: None,
            owner: None,
            properties: Default::default(),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        };
        let groups = split_by_keys(&table.partition_keys, std::slice::from_ref(&batch)).unwrap();
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].0.path(), "region=eu");
        assert_eq!(groups[1].1[0].num_rows(), 2);

        let bad = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![Some("us"), Some("a/b")])),
                Arc::new(Int64Array::from(vec![1, 2])),
            ],
        )
        .unwrap();
        let err = split_by_keys(&table.partition_keys, &[bad]).unwrap_err();
        assert_eq!(err.code(), "invalid_partition");
    }
}
