//! Partition key columns in the data.
//!
//! Partition values live in the path and the catalog, not in the files:
//! before a write, columns named like partition keys are checked against the
//! partition (every row must hold its value) and stripped; after a read, the
//! values are added back as constant columns.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow::compute::kernels::cmp;
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchOptions, Scalar, StringArray};
use arrow_schema::{DataType, Field, Schema};

use super::predicate::STRICT;
use crate::error::{Code, Error, Result};
use crate::model::{KeyType, PartitionKey, PartitionValues};

/// Most distinct wrong values named in a mismatch message.
const SHOWN_VALUES: usize = 5;

/// The Arrow fields of the partition key columns, in key order: string →
/// Utf8, int → Int64, date → Date32 (never null).
pub fn partition_fields(keys: &[PartitionKey]) -> Vec<Field> {
    keys.iter()
        .map(|k| Field::new(k.name.as_str(), key_data_type(k.kind), false))
        .collect()
}

/// Checks the columns of `batch` named like partition keys: every row must
/// hold the partition's value (compared as the key's canonical text: ints in
/// decimal, dates as `YYYY-MM-DD`, strings as they are; a null is a
/// mismatch). Returns the batch without those columns, schema metadata kept.
/// Otherwise fails with `partition_mismatch`, naming the count and values.
pub fn partition_columns_check(
    batch: &RecordBatch,
    keys: &[PartitionKey],
    values: &PartitionValues,
) -> Result<RecordBatch> {
    let pairs = aligned(keys, values)?;
    let schema = batch.schema();
    let mut strip = Vec::new();
    for (key, expected) in pairs {
        let Ok(idx) = schema.index_of(key.name.as_str()) else {
            continue;
        };
        check_column(batch.column(idx), key, expected)?;
        strip.push(idx);
    }
    if strip.is_empty() {
        return Ok(batch.clone());
    }
    let keep: Vec<usize> = (0..batch.num_columns())
        .filter(|i| !strip.contains(i))
        .collect();
    Ok(batch.project(&keep)?)
}

/// Appends one constant column per partition key (see [`partition_fields`])
/// holding the partition's values. Schema metadata is kept. Fails with
/// `duplicate_column` when the batch has a column named like a key.
/// For many batches of one partition, [`PartitionColumns`] shares the
/// values' memory among them.
pub fn with_partition_columns(
    batch: &RecordBatch,
    keys: &[PartitionKey],
    values: &PartitionValues,
) -> Result<RecordBatch> {
    PartitionColumns::new(keys, values)?.add(batch)
}

/// Adds the partition key columns to the batches of one partition (see
/// [`with_partition_columns`]). Each key's column is a slice of one
/// constant array shared by every batch, so a read of N rows holds one
/// batch's worth of partition values, not N: a loaded table carries its
/// partition columns (plain Int64 / Utf8 / Date32, as before) at almost no
/// memory cost.
#[derive(Debug, Clone)]
pub struct PartitionColumns {
    /// Each key's field and canonical value.
    keys: Vec<(Field, KeyType, String)>,
    /// One constant array per key, at least as long as the longest batch so far.
    constants: Vec<ArrayRef>,
}

impl PartitionColumns {
    /// The partition columns of `values` (which belong to `keys`).
    pub fn new(keys: &[PartitionKey], values: &PartitionValues) -> Result<Self> {
        let pairs = aligned(keys, values)?;
        Ok(Self {
            keys: pairs
                .into_iter()
                .zip(partition_fields(keys))
                .map(|((key, value), field)| (field, key.kind, value.to_owned()))
                .collect(),
            constants: Vec::new(),
        })
    }

    /// `batch` with the partition columns appended.
    pub fn add(&mut self, batch: &RecordBatch) -> Result<RecordBatch> {
        let schema = batch.schema();
        let rows = batch.num_rows();
        if self.constants.first().is_none_or(|c| c.len() < rows) {
            self.constants = self
                .keys
                .iter()
                .map(|(_, kind, value)| partition_value_array(*kind, value, rows))
                .collect::<Result<_>>()?;
        }
        let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        for ((field, _, _), constant) in self.keys.iter().zip(&self.constants) {
            if schema.field_with_name(field.name()).is_ok() {
                return Err(Error::invalid(
                    Code::DuplicateColumn,
                    format!(
                        "column {} is in the data and is also a partition key: rename or drop the column",
                        field.name()
                    ),
                ));
            }
            columns.push(constant.slice(0, rows));
            fields.push(field.clone());
        }
        let schema = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        Ok(RecordBatch::try_new_with_options(
            schema, columns, &options,
        )?)
    }
}

/// Pairs each key with its canonical value, checking they line up.
fn aligned<'a>(
    keys: &'a [PartitionKey],
    values: &'a PartitionValues,
) -> Result<Vec<(&'a PartitionKey, &'a str)>> {
    let pairs = values.pairs();
    if pairs.len() != keys.len()
        || keys
            .iter()
            .zip(pairs)
            .any(|(k, (n, _))| k.name.as_str() != n)
    {
        return Err(Error::Internal(format!(
            "partition values {values} do not belong to keys {}",
            keys.iter()
                .map(|k| k.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(keys
        .iter()
        .zip(pairs)
        .map(|(k, (_, v))| (k, v.as_str()))
        .collect())
}

/// Fails unless every row of `column` holds `expected` for `key`.
fn check_column(column: &ArrayRef, key: &PartitionKey, expected: &str) -> Result<()> {
    let text = canonical_text(column, key)?;
    let wrong = cmp::neq(&text, &Scalar::new(StringArray::from(vec![expected])))?;
    let text = text.as_string::<i32>();
    let mut count = 0usize;
    let mut shown: BTreeSet<String> = BTreeSet::new();
    let mut more = false;
    for i in 0..text.len() {
        if wrong.is_valid(i) && !wrong.value(i) {
            continue;
        }
        count += 1;
        let v = if text.is_valid(i) {
            text.value(i).to_owned()
        } else {
            "<null>".to_owned()
        };
        if shown.len() < SHOWN_VALUES {
            shown.insert(v);
        } else if !shown.contains(&v) {
            more = true;
        }
    }
    if count == 0 {
        return Ok(());
    }
    let name = key.name.as_str();
    let listed: Vec<String> = shown.iter().map(|v| format!("{name}={v}")).collect();
    Err(Error::invalid(
        Code::PartitionMismatch,
        format!(
            "{count} {} {}{} but the partition is {name}={expected}: write each partition separately, or drop the {name} column",
            if count == 1 { "row has" } else { "rows have" },
            listed.join(", "),
            if more { " and other values" } else { "" },
        ),
    ))
}

/// The values of `column` as `key`'s canonical text (Utf8, nulls kept).
fn canonical_text(column: &ArrayRef, key: &PartitionKey) -> Result<ArrayRef> {
    let base = match column.data_type() {
        DataType::Dictionary(_, v) => v.as_ref().clone(),
        other => other.clone(),
    };
    let stringy = matches!(
        base,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    );
    let via = match key.kind {
        _ if stringy => None,
        KeyType::Int if base.is_integer() => Some(DataType::Int64),
        KeyType::Date if matches!(base, DataType::Date32 | DataType::Date64) => {
            Some(DataType::Date32)
        }
        _ => {
            return Err(Error::invalid(
                Code::PartitionMismatch,
                format!(
                    "column {} holds {} values but partition key {} is a {}: drop the column or convert it",
                    key.name,
                    column.data_type(),
                    key.name,
                    key.kind
                ),
            ));
        }
    };
    let typed = match via {
        Some(t) => arrow_cast::cast(column, &t)?,
        None => column.clone(),
    };
    Ok(arrow_cast::cast(&typed, &DataType::Utf8)?)
}

/// An array of `rows` copies of a partition value, typed for its key
/// (string → Utf8, int → Int64, date → Date32).
pub(super) fn partition_value_array(
    kind: KeyType,
    canonical: &str,
    rows: usize,
) -> Result<ArrayRef> {
    let text: ArrayRef = Arc::new(StringArray::from(vec![canonical]));
    let one = arrow_cast::cast_with_options(&text, &key_data_type(kind), &STRICT).map_err(|e| {
        Error::Internal(format!(
            "partition value {canonical:?} is not a {kind}: {e}"
        ))
    })?;
    let zeros = arrow_array::UInt32Array::from(vec![0u32; rows]);
    Ok(arrow_select::take::take(&one, &zeros, None)?)
}

/// The Arrow type of a partition key's column.
fn key_data_type(kind: KeyType) -> DataType {
    match kind {
        KeyType::String => DataType::Utf8,
        KeyType::Int => DataType::Int64,
        KeyType::Date => DataType::Date32,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::HashMap;

    use arrow_array::{Date32Array, DictionaryArray, Int32Array, Int64Array, types::Int8Type};

    use super::*;
    use crate::model::PartitionSpec;

    fn keys() -> Vec<PartitionKey> {
        vec![
            PartitionKey::new("date", KeyType::Date).unwrap(),
            PartitionKey::new("region", KeyType::String).unwrap(),
            PartitionKey::new("shard", KeyType::Int).unwrap(),
        ]
    }

    fn values() -> PartitionValues {
        let spec = PartitionSpec::parse("date=2016-10-31/region=us/shard=7").unwrap();
        PartitionValues::resolve(&keys(), &spec).unwrap()
    }

    fn batch(region: Vec<Option<&str>>) -> RecordBatch {
        let n = region.len();
        let day = 17105; // 2016-10-31
        let schema = Schema::new_with_metadata(
            vec![
                Field::new("x", DataType::Int64, false),
                Field::new(
                    "region",
                    DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8)),
                    true,
                ),
                Field::new("date", DataType::Date32, true),
                Field::new("shard", DataType::Int32, true),
            ],
            HashMap::from([("pandas".to_owned(), "{}".to_owned())]),
        );
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Int64Array::from_iter_values(0..n as i64)),
                Arc::new(region.into_iter().collect::<DictionaryArray<Int8Type>>()),
                Arc::new(Date32Array::from(vec![day; n])),
                Arc::new(Int32Array::from(vec![7; n])),
            ],
        )
        .unwrap()
    }

    #[test]
    fn matching_partition_columns_are_stripped() {
        let b = batch(vec![Some("us"); 4]);
        let out = partition_columns_check(&b, &keys(), &values()).unwrap();
        assert_eq!(out.num_columns(), 1);
        assert_eq!(out.schema().field(0).name(), "x");
        assert_eq!(out.schema().metadata()["pandas"], "{}");
        assert_eq!(out.num_rows(), 4);
    }

    #[test]
    fn mismatching_rows_are_refused_with_count_and_values() {
        let b = batch(vec![Some("us"), Some("eu"), Some("eu"), None, Some("fr")]);
        let e = partition_columns_check(&b, &keys(), &values()).unwrap_err();
        assert_eq!(e.code(), "partition_mismatch");
        let msg = e.to_string();
        assert!(
            msg.starts_with(
                "4 rows have region=<null>, region=eu, region=fr but the partition is region=us: "
            ),
            "{msg}"
        );
        let one = batch(vec![Some("us"), Some("eu")]);
        let msg = partition_columns_check(&one, &keys(), &values())
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("1 row has region=eu but the partition is region=us"),
            "{msg}"
        );
    }

    #[test]
    fn typed_columns_compare_as_canonical_text() {
        let k = keys();
        let v = values();
        let schema = Arc::new(Schema::new(vec![
            Field::new("shard", DataType::Int64, false),
            Field::new("date", DataType::Utf8, false),
        ]));
        let ok = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![7, 7])),
                Arc::new(StringArray::from(vec!["2016-10-31", "2016-10-31"])),
            ],
        )
        .unwrap();
        assert_eq!(
            partition_columns_check(&ok, &k, &v).unwrap().num_columns(),
            0
        );
        let bad = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![7, 8])),
                Arc::new(StringArray::from(vec!["2016-10-31", "2016-10-31"])),
            ],
        )
        .unwrap();
        let msg = partition_columns_check(&bad, &k, &v)
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("1 row has shard=8 but the partition is shard=7"),
            "{msg}"
        );
        let wrong_type = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new(
                "shard",
                DataType::Float64,
                false,
            )])),
            vec![Arc::new(arrow_array::Float64Array::from(vec![7.0]))],
        )
        .unwrap();
        let e = partition_columns_check(&wrong_type, &k, &v).unwrap_err();
        assert_eq!(e.code(), "partition_mismatch");
    }

    #[test]
    fn partition_columns_are_added_back_typed() {
        let b = partition_columns_check(&batch(vec![Some("us"); 3]), &keys(), &values()).unwrap();
        let out = with_partition_columns(&b, &keys(), &values()).unwrap();
        let names: Vec<&str> = out
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        assert_eq!(names, ["x", "date", "region", "shard"]);
        assert_eq!(out.schema().metadata()["pandas"], "{}");
        assert_eq!(
            out.column(1).as_ref(),
            &Date32Array::from(vec![17105; 3]) as &dyn Array
        );
        assert_eq!(
            out.column(2).as_ref(),
            &StringArray::from(vec!["us"; 3]) as &dyn Array
        );
        assert_eq!(
            out.column(3).as_ref(),
            &Int64Array::from(vec![7; 3]) as &dyn Array
        );
        let fields = partition_fields(&keys());
        assert_eq!(fields[0].data_type(), &DataType::Date32);
        let e = with_partition_columns(&out, &keys(), &values()).unwrap_err();
        assert_eq!(e.code(), "duplicate_column");
    }
}
