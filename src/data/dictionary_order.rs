//! Keeps the order (and the unused values) of string dictionaries across
//! Parquet, so that a pandas categorical comes back with its categories.
//!
//! Parquet rebuilds a dictionary from the values in order of appearance:
//! `["small", "large"]` categories written as `large, small` come back as
//! `["large", "small"]`, and categories no row uses are gone. So a written
//! file records each string dictionary column's values in its key-value
//! metadata (`batchmeta.dictionary.<column>`, a JSON list), and a read maps
//! each decoded dictionary onto that list, values the list lacks after it.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{Array, ArrayRef, DictionaryArray, Int32Array, RecordBatch, StringArray};
use arrow_schema::DataType;
use parquet::file::metadata::KeyValue;

use crate::error::{Error, Result};

const KEY_PREFIX: &str = "batchmeta.dictionary.";
/// Larger dictionaries are not recorded (they are not categories).
const MAX_VALUES: usize = 10_000;

fn is_string_dictionary(t: &DataType) -> bool {
    matches!(t, DataType::Dictionary(_, v) if matches!(**v, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View))
}

/// The key-value entries that record the dictionaries of `batch`'s string
/// dictionary columns.
pub(crate) fn record(batch: &RecordBatch) -> Result<Vec<KeyValue>> {
    let mut out = Vec::new();
    for (field, col) in batch.schema().fields().iter().zip(batch.columns()) {
        if !is_string_dictionary(field.data_type()) {
            continue;
        }
        let values = arrow_cast::cast(col.as_any_dictionary().values(), &DataType::Utf8)?;
        let values = values.as_string::<i32>();
        if values.len() > MAX_VALUES || values.null_count() > 0 {
            continue;
        }
        let list: Vec<&str> = values.iter().flatten().collect();
        let json = serde_json::to_string(&list)
            .map_err(|e| Error::Internal(format!("dictionary metadata: {e}")))?;
        out.push(KeyValue::new(format!("{KEY_PREFIX}{}", field.name()), json));
    }
    Ok(out)
}

/// The recorded dictionaries of a file, by column name.
pub(crate) fn recorded(kv: Option<&Vec<KeyValue>>) -> HashMap<String, Vec<String>> {
    kv.into_iter()
        .flatten()
        .filter_map(|e| {
            let column = e.key.strip_prefix(KEY_PREFIX)?;
            let values: Vec<String> = serde_json::from_str(e.value.as_deref()?).ok()?;
            Some((column.to_owned(), values))
        })
        .collect()
}

/// A file's key-value metadata without the recorded dictionaries (which
/// are not part of its schema).
pub(crate) fn without_records(kv: Option<&Vec<KeyValue>>) -> Option<Vec<KeyValue>> {
    kv.map(|kv| {
        kv.iter()
            .filter(|e| !e.key.starts_with(KEY_PREFIX))
            .cloned()
            .collect()
    })
}

/// `array` (a string dictionary) with its dictionary replaced by `order`
/// followed by any values `order` lacks, keys remapped; same data type.
pub(crate) fn restore(array: &ArrayRef, order: &[String]) -> Result<ArrayRef> {
    if !is_string_dictionary(array.data_type()) {
        return Ok(array.clone());
    }
    let dict = array.as_any_dictionary();
    let values = arrow_cast::cast(dict.values(), &DataType::Utf8)?;
    let values = values.as_string::<i32>();
    let mut merged: Vec<&str> = order.iter().map(String::as_str).collect();
    let mut index: HashMap<&str, i32> = HashMap::with_capacity(merged.len());
    for (i, v) in merged.iter().enumerate() {
        index.entry(v).or_insert(i as i32);
    }
    let valid = array.logical_nulls();
    // Values no valid row refers to and the record lacks are dropped: a
    // column of nulls decodes with a placeholder value (`""`) that was
    // never a category.
    let mut used = vec![false; values.len()];
    for (row, k) in dict.normalized_keys().iter().enumerate() {
        if !valid.as_ref().is_some_and(|n| n.is_null(row))
            && let Some(u) = used.get_mut(*k)
        {
            *u = true;
        }
    }
    let mut remap: Vec<Option<i32>> = Vec::with_capacity(values.len());
    for (v, used) in values.iter().zip(&used) {
        remap.push(v.and_then(|v| match index.get(v) {
            Some(i) => Some(*i),
            None if *used => {
                let i = merged.len() as i32;
                merged.push(v);
                index.insert(v, i);
                Some(i)
            }
            None => None,
        }));
    }
    let keys: Int32Array = dict
        .normalized_keys()
        .iter()
        .enumerate()
        .map(|(row, k)| {
            if valid.as_ref().is_some_and(|n| n.is_null(row)) {
                None
            } else {
                remap.get(*k).copied().flatten()
            }
        })
        .collect();
    let rebuilt = DictionaryArray::<Int32Type>::try_new(keys, Arc::new(StringArray::from(merged)))?;
    Ok(arrow_cast::cast(&rebuilt, array.data_type())?)
}

/// `batch` with every recorded dictionary column restored.
pub(crate) fn restore_batch(
    batch: RecordBatch,
    recorded: &HashMap<String, Vec<String>>,
) -> Result<RecordBatch> {
    if recorded.is_empty() {
        return Ok(batch);
    }
    let schema = batch.schema();
    let columns = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(f, c)| match recorded.get(f.name()) {
            Some(order) => restore(c, order),
            None => Ok(c.clone()),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new_with_options(
        schema,
        columns,
        &arrow_array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )?)
}

#[cfg(test)]
mod tests {
    use arrow_array::types::Int8Type;

    use super::*;

    #[test]
    fn order_and_unused_values_come_back() {
        let written: DictionaryArray<Int8Type> = vec![Some("large"), None, Some("small")]
            .into_iter()
            .collect();
        // What Parquet gives back: values in order of appearance.
        let decoded: ArrayRef = Arc::new(written.clone());
        let order = vec!["small".to_owned(), "medium".to_owned(), "large".to_owned()];
        let out = restore(&decoded, &order).unwrap();
        assert_eq!(out.data_type(), decoded.data_type());
        let out = out.as_any_dictionary();
        let values = out.values().as_string::<i32>();
        assert_eq!(
            values.iter().flatten().collect::<Vec<_>>(),
            ["small", "medium", "large"]
        );
        let text = arrow_cast::cast(out.keys(), &DataType::Int32).unwrap();
        let keys = text.as_primitive::<Int32Type>();
        assert_eq!(keys.iter().collect::<Vec<_>>(), [Some(2), None, Some(0)]);
        // A value the order lacks goes after it.
        let out = restore(&decoded, &["small".to_owned()]).unwrap();
        let values = out.as_any_dictionary().values().as_string::<i32>().clone();
        assert_eq!(
            values.iter().flatten().collect::<Vec<_>>(),
            ["small", "large"]
        );
    }

    #[test]
    fn a_column_of_nulls_gains_no_placeholder_category() {
        // Parquet decodes an all-null dictionary column with a "" value.
        let keys = arrow_array::Int8Array::from(vec![None, None, None]);
        let decoded: ArrayRef = Arc::new(
            DictionaryArray::<Int8Type>::try_new(keys, Arc::new(StringArray::from(vec![""])))
                .unwrap(),
        );
        let out = restore(&decoded, &["a".to_owned(), "b".to_owned()]).unwrap();
        let values = out.as_any_dictionary().values().as_string::<i32>().clone();
        assert_eq!(values.iter().flatten().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(out.null_count(), 3);
    }
}
