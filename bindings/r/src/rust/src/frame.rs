//! R data frames to Arrow record batches and back, column by column.
//!
//! | R | Arrow |
//! | --- | --- |
//! | integer | int32 (int8/16/32, uint8/16 come back as integer) |
//! | double | float64 (`NaN` stays `NaN`, `NA` is null) |
//! | character | utf8 |
//! | logical | boolean |
//! | factor / ordered | dictionary<int32, utf8>, the levels in order, `ordered` flag |
//! | Date | date32 |
//! | POSIXct | timestamp\[us\] with the `tzone` attribute as its time zone |
//! | bit64 integer64 | int64 (uint32/uint64 come back as integer64 too) |
//!
//! `NA` in every type is an Arrow null, both ways. The core keeps the
//! order and the unused values of a dictionary across Parquet, so a
//! factor's levels come back as written.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Float64Type, Int32Type, Int64Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, DictionaryArray, Float64Array, Int32Array,
    Int64Array, RecordBatch, RecordBatchOptions, StringArray, TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use extendr_api::AsTypedSlice;
use extendr_api::prelude::*;

use crate::errors::{RResult, interrupted, invalid, to_r};
use crate::interrupt;

/// R's `NA_integer_` (and the `NA` of logical vectors).
const NA_INT: i32 = i32::MIN;
/// bit64's `NA_integer64_`.
const NA_INT64: i64 = i64::MIN;

/// Whether `x` is R's `NA_real_` (a NaN whose low word is 1954), as
/// opposed to a plain `NaN`.
fn is_na_real(x: f64) -> bool {
    x.is_nan() && (x.to_bits() & 0xffff_ffff) == 1954
}

fn arrow_err(e: arrow_schema::ArrowError) -> Robj {
    to_r(batchmeta::Error::from(e))
}

/// The frame's columns as one record batch.
pub(crate) fn from_r(df: &Robj) -> RResult<(SchemaRef, RecordBatch)> {
    let list = List::try_from(df.clone()).map_err(|_| {
        invalid(
            "invalid_data",
            "store_dataframe takes a data.frame (or a tibble)",
        )
    })?;
    let names: Vec<String> = df
        .names()
        .map(|n| n.map(str::to_owned).collect())
        .unwrap_or_default();
    if names.len() != list.len() || list.is_empty() {
        return Err(invalid(
            "invalid_data",
            "the data frame has no named columns: a table needs at least one",
        ));
    }
    let mut fields = Vec::with_capacity(names.len());
    let mut arrays = Vec::with_capacity(names.len());
    let mut rows = None;
    for (name, col) in names.iter().zip(list.values()) {
        if interrupt::pending() {
            return Err(interrupted("store_dataframe"));
        }
        let (field, array) = column(name, &col)?;
        if *rows.get_or_insert(array.len()) != array.len() {
            return Err(invalid(
                "invalid_data",
                format!(
                    "column {name:?} has {} values, the others {}",
                    array.len(),
                    rows.unwrap_or(0)
                ),
            ));
        }
        fields.push(field);
        arrays.push(array);
    }
    let schema = Arc::new(Schema::new(fields));
    let options = RecordBatchOptions::new().with_row_count(rows);
    let batch =
        RecordBatch::try_new_with_options(schema.clone(), arrays, &options).map_err(arrow_err)?;
    Ok((schema, batch))
}

fn unsupported(name: &str, what: &str) -> Robj {
    invalid(
        "invalid_data",
        format!(
            "column {name:?} is {what}: batchmeta stores integer, double, character, logical, factor, Date, POSIXct and bit64::integer64 columns; convert it first (e.g. as.character())"
        ),
    )
}

fn reals<'a>(name: &str, col: &'a Robj, what: &str) -> RResult<&'a [f64]> {
    col.as_real_slice()
        .ok_or_else(|| unsupported(name, &format!("a {what} not stored as double")))
}

/// Days (Date) or seconds (POSIXct), stored as double or integer.
fn numbers(name: &str, col: &Robj, what: &str) -> RResult<Vec<Option<f64>>> {
    if let Some(ints) = col.as_integer_slice() {
        return Ok(ints
            .iter()
            .map(|&i| (i != NA_INT).then_some(f64::from(i)))
            .collect());
    }
    Ok(reals(name, col, what)?
        .iter()
        .map(|&x| (!x.is_nan()).then_some(x))
        .collect())
}

fn column(name: &str, col: &Robj) -> RResult<(Field, ArrayRef)> {
    let field = |t: DataType| Field::new(name, t, true);
    if col.inherits("factor") {
        let codes = col
            .as_integer_slice()
            .ok_or_else(|| unsupported(name, "a factor without integer codes"))?;
        let levels = col
            .get_attrib("levels")
            .map(Strings::try_from)
            .transpose()
            .ok()
            .flatten()
            .ok_or_else(|| unsupported(name, "a factor without levels"))?;
        let n = levels.len() as i32;
        let keys: Int32Array = codes
            .iter()
            .map(|&c| (c != NA_INT && c >= 1 && c <= n).then(|| c - 1))
            .collect();
        let values: StringArray = levels
            .iter()
            .map(|l| (!l.is_na()).then(|| l.as_ref().to_owned()))
            .collect();
        if values.null_count() > 0 {
            return Err(invalid(
                "invalid_data",
                format!(
                    "factor column {name:?} has NA among its levels: drop it with droplevels() or use addNA() only for display"
                ),
            ));
        }
        let dict =
            DictionaryArray::<Int32Type>::try_new(keys, Arc::new(values)).map_err(arrow_err)?;
        let f = field(dict.data_type().clone()).with_dict_is_ordered(col.inherits("ordered"));
        return Ok((f, Arc::new(dict)));
    }
    if col.inherits("integer64") {
        let bits = reals(name, col, "integer64")?;
        let a: Int64Array = bits
            .iter()
            .map(|x| {
                let v = x.to_bits() as i64;
                (v != NA_INT64).then_some(v)
            })
            .collect();
        return Ok((field(DataType::Int64), Arc::new(a)));
    }
    if col.inherits("POSIXct") {
        let tz = col
            .get_attrib("tzone")
            .and_then(|t| {
                t.as_str_vector()
                    .and_then(|v| v.first().map(|s| (*s).to_owned()))
            })
            .filter(|t| !t.is_empty());
        let secs = numbers(name, col, "POSIXct")?;
        let mut micros = Vec::with_capacity(secs.len());
        for s in secs {
            micros.push(match s {
                None => None,
                Some(s) if s.is_finite() => Some((s * 1e6).round() as i64),
                Some(_) => {
                    return Err(invalid(
                        "invalid_data",
                        format!("POSIXct column {name:?} holds an infinite time"),
                    ));
                }
            });
        }
        let a = TimestampMicrosecondArray::from(micros).with_timezone_opt(tz);
        return Ok((field(a.data_type().clone()), Arc::new(a)));
    }
    if col.inherits("Date") {
        let days = numbers(name, col, "Date")?;
        let mut out = Vec::with_capacity(days.len());
        for d in days {
            out.push(match d {
                None => None,
                Some(d) if d.is_finite() && d.abs() < f64::from(i32::MAX) => Some(d.floor() as i32),
                Some(_) => {
                    return Err(invalid(
                        "invalid_data",
                        format!("Date column {name:?} holds a date out of range"),
                    ));
                }
            });
        }
        return Ok((field(DataType::Date32), Arc::new(Date32Array::from(out))));
    }
    if let Some(classes) = col.class() {
        let classes: Vec<&str> = classes.collect();
        if classes.iter().any(|c| *c != "AsIs") {
            return Err(unsupported(
                name,
                &format!("of class {}", classes.join("/")),
            ));
        }
    }
    match col.rtype() {
        Rtype::Integers => {
            let v = col.as_integer_slice().unwrap_or(&[]);
            let a: Int32Array = v.iter().map(|&i| (i != NA_INT).then_some(i)).collect();
            Ok((field(DataType::Int32), Arc::new(a)))
        }
        Rtype::Doubles => {
            let v = col.as_real_slice().unwrap_or(&[]);
            let a: Float64Array = v.iter().map(|&x| (!is_na_real(x)).then_some(x)).collect();
            Ok((field(DataType::Float64), Arc::new(a)))
        }
        Rtype::Logicals => {
            let v: &[Rbool] = col.as_typed_slice().unwrap_or(&[]);
            let a: BooleanArray = v
                .iter()
                .map(|b| if b.is_na() { None } else { Some(b.is_true()) })
                .collect();
            Ok((field(DataType::Boolean), Arc::new(a)))
        }
        Rtype::Strings => {
            let v: &[Rstr] = col.as_typed_slice().unwrap_or(&[]);
            let a: StringArray = v.iter().map(|s| (!s.is_na()).then(|| s.as_ref())).collect();
            Ok((field(DataType::Utf8), Arc::new(a)))
        }
        Rtype::List => Err(unsupported(name, "a list column")),
        other => Err(unsupported(name, &format!("of type {other:?}"))),
    }
}

/// Changes the columns R has a choice about (the timestamp unit) to the
/// existing table's, so that R writes into tables other clients created
/// (pandas writes nanoseconds); everything else is left to the core's
/// lossless casts and schema check.
pub(crate) fn conform(batch: RecordBatch, table: &Schema) -> RResult<RecordBatch> {
    let schema = batch.schema();
    let mut changed = false;
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut columns = Vec::with_capacity(schema.fields().len());
    for (f, col) in schema.fields().iter().zip(batch.columns()) {
        let target = table.field_with_name(f.name()).ok().map(|t| t.data_type());
        match (f.data_type(), target) {
            (
                DataType::Timestamp(TimeUnit::Microsecond, tz),
                Some(t @ DataType::Timestamp(unit, ttz)),
            ) if tz == ttz && *unit != TimeUnit::Microsecond => {
                let cast = arrow_cast::cast_with_options(
                    col,
                    t,
                    &arrow_cast::CastOptions {
                        safe: false,
                        ..Default::default()
                    },
                )
                .map_err(arrow_err)?;
                fields.push(f.as_ref().clone().with_data_type(t.clone()));
                columns.push(cast);
                changed = true;
            }
            _ => {
                fields.push(f.as_ref().clone());
                columns.push(col.clone());
            }
        }
    }
    if !changed {
        return Ok(batch);
    }
    let schema = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    RecordBatch::try_new_with_options(schema, columns, &options).map_err(arrow_err)
}

/// How 64-bit integers come back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Int64As {
    /// bit64's `integer64` (exact).
    Integer64,
    /// double (exact up to 2^53).
    Double,
}

/// The batches as `list(columns = <named list>, nrow = <n>)`; the R side
/// makes it a data.frame.
pub(crate) fn to_r_frame(
    schema: &Schema,
    batches: &[RecordBatch],
    int64: Int64As,
) -> RResult<Robj> {
    let nrow: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let mut names = Vec::with_capacity(schema.fields().len());
    let mut columns = Vec::with_capacity(schema.fields().len());
    for (i, field) in schema.fields().iter().enumerate() {
        let chunks: Vec<ArrayRef> = batches.iter().map(|b| b.column(i).clone()).collect();
        columns.push(to_r_column(field, &chunks, nrow, int64)?);
        names.push(field.name().as_str());
    }
    let cols = List::from_names_and_values(&names, columns).map_err(|e| {
        to_r(batchmeta::Error::Internal(format!(
            "cannot build the columns: {e}"
        )))
    })?;
    List::from_names_and_values(
        ["columns", "nrow"],
        [Robj::from(cols), (nrow as f64).into()],
    )
    .map(Robj::from)
    .map_err(|e| {
        to_r(batchmeta::Error::Internal(format!(
            "cannot build the frame: {e}"
        )))
    })
}

fn cast(chunk: &ArrayRef, to: &DataType) -> RResult<ArrayRef> {
    arrow_cast::cast_with_options(
        chunk,
        to,
        &arrow_cast::CastOptions {
            safe: false,
            ..Default::default()
        },
    )
    .map_err(arrow_err)
}

fn doubles(
    chunks: &[ArrayRef],
    n: usize,
    f: impl Fn(&ArrayRef) -> RResult<Vec<Option<f64>>>,
) -> RResult<Robj> {
    let mut out: Robj = Doubles::new(n).into();
    let slice = out.as_real_slice_mut().unwrap_or(&mut []);
    let mut at = 0;
    for c in chunks {
        for v in f(c)? {
            slice[at] = v.unwrap_or(f64::from_bits(0x7FF0_0000_0000_07A2));
            at += 1;
        }
    }
    Ok(out)
}

fn set_class(mut robj: Robj, class: &[&str]) -> RResult<Robj> {
    robj.set_class(class).map_err(|e| {
        to_r(batchmeta::Error::Internal(format!(
            "cannot set a class: {e}"
        )))
    })?;
    Ok(robj)
}

fn to_r_column(field: &Field, chunks: &[ArrayRef], n: usize, int64: Int64As) -> RResult<Robj> {
    let name = field.name();
    match field.data_type() {
        DataType::Null => {
            let mut out: Robj = Logicals::new(n).into();
            let s: &mut [Rbool] = out.as_typed_slice_mut().unwrap_or(&mut []);
            s.iter_mut().for_each(|b| *b = Rbool::na());
            Ok(out)
        }
        DataType::Boolean => {
            let mut out: Robj = Logicals::new(n).into();
            let s: &mut [Rbool] = out.as_typed_slice_mut().unwrap_or(&mut []);
            let mut at = 0;
            for c in chunks {
                for v in c.as_boolean().iter() {
                    s[at] = match v {
                        Some(b) => Rbool::from(b),
                        None => Rbool::na(),
                    };
                    at += 1;
                }
            }
            Ok(out)
        }
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::UInt8 | DataType::UInt16 => {
            let mut out: Robj = Integers::new(n).into();
            let s = out.as_integer_slice_mut().unwrap_or(&mut []);
            let mut at = 0;
            for c in chunks {
                let c = cast(c, &DataType::Int32)?;
                for v in c.as_primitive::<Int32Type>().iter() {
                    s[at] = v.unwrap_or(NA_INT);
                    at += 1;
                }
            }
            Ok(out)
        }
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => {
            let mut values = Vec::with_capacity(n);
            for c in chunks {
                let c = cast(c, &DataType::Int64).map_err(|_| {
                    invalid(
                        "invalid_data",
                        format!("column {name:?} holds an unsigned value above 2^63, which R cannot hold"),
                    )
                })?;
                values.extend(c.as_primitive::<Int64Type>().iter());
            }
            match int64 {
                Int64As::Integer64 => {
                    let mut out: Robj = Doubles::new(n).into();
                    let s = out.as_real_slice_mut().unwrap_or(&mut []);
                    for (slot, v) in s.iter_mut().zip(values) {
                        *slot = f64::from_bits(v.unwrap_or(NA_INT64) as u64);
                    }
                    set_class(out, &["integer64"])
                }
                Int64As::Double => {
                    let mut out: Robj = Doubles::new(n).into();
                    let s = out.as_real_slice_mut().unwrap_or(&mut []);
                    for (slot, v) in s.iter_mut().zip(values) {
                        *slot = v.map_or(f64::from_bits(0x7FF0_0000_0000_07A2), |v| v as f64);
                    }
                    Ok(out)
                }
            }
        }
        DataType::Float16 | DataType::Float32 | DataType::Float64 => doubles(chunks, n, |c| {
            Ok(cast(c, &DataType::Float64)?
                .as_primitive::<Float64Type>()
                .iter()
                .collect())
        }),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let mut out = Strings::new(n);
            let mut at = 0;
            for c in chunks {
                let c = cast(c, &DataType::Utf8)?;
                for v in c.as_string::<i32>().iter() {
                    out.set_elt(at, v.map(Rstr::from).unwrap_or_else(Rstr::na));
                    at += 1;
                }
            }
            Ok(out.into())
        }
        DataType::Date32 | DataType::Date64 => {
            let out = doubles(chunks, n, |c| {
                Ok(cast(c, &DataType::Date32)?
                    .as_primitive::<Date32Type>()
                    .iter()
                    .map(|d| d.map(f64::from))
                    .collect())
            })?;
            set_class(out, &["Date"])
        }
        DataType::Timestamp(unit, tz) => {
            let per_second = match unit {
                TimeUnit::Second => 1.0,
                TimeUnit::Millisecond => 1e3,
                TimeUnit::Microsecond => 1e6,
                TimeUnit::Nanosecond => 1e9,
            };
            let out = doubles(chunks, n, |c| {
                let raw: Vec<Option<i64>> = match unit {
                    TimeUnit::Second => c.as_primitive::<TimestampSecondType>().iter().collect(),
                    TimeUnit::Millisecond => c
                        .as_primitive::<TimestampMillisecondType>()
                        .iter()
                        .collect(),
                    TimeUnit::Microsecond => c
                        .as_primitive::<TimestampMicrosecondType>()
                        .iter()
                        .collect(),
                    TimeUnit::Nanosecond => {
                        c.as_primitive::<TimestampNanosecondType>().iter().collect()
                    }
                };
                Ok(raw
                    .into_iter()
                    .map(|v| v.map(|v| v as f64 / per_second))
                    .collect())
            })?;
            let mut out = set_class(out, &["POSIXct", "POSIXt"])?;
            out.set_attrib("tzone", tz.as_deref().unwrap_or(""))
                .map_err(|e| to_r(batchmeta::Error::Internal(format!("cannot set tzone: {e}"))))?;
            Ok(out)
        }
        DataType::Dictionary(_, v)
            if matches!(
                **v,
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) =>
        {
            factor(field, chunks, n)
        }
        DataType::Dictionary(_, v) => {
            let plain = Field::new(name, (**v).clone(), true);
            let chunks = chunks
                .iter()
                .map(|c| cast(c, v))
                .collect::<RResult<Vec<_>>>()?;
            to_r_column(&plain, &chunks, n, int64)
        }
        other => Err(invalid(
            "invalid_data",
            format!(
                "column {name:?} has type {other}, which R has no type for: leave it out with columns = c(...)"
            ),
        )),
    }
}

/// A string dictionary as a factor: the levels are the first chunk's
/// dictionary (the written order) and any new values of later chunks.
fn factor(field: &Field, chunks: &[ArrayRef], n: usize) -> RResult<Robj> {
    let mut levels: Vec<String> = Vec::new();
    let mut index: HashMap<String, i32> = HashMap::new();
    let mut out: Robj = Integers::new(n).into();
    let s = out.as_integer_slice_mut().unwrap_or(&mut []);
    let mut at = 0;
    for c in chunks {
        let dict = c.as_any_dictionary();
        let values = cast(dict.values(), &DataType::Utf8)?;
        let values = values.as_string::<i32>();
        // Each dictionary value's R code (1-based).
        let mut codes = Vec::with_capacity(values.len());
        for v in values.iter() {
            let code = match v {
                None => NA_INT,
                Some(v) => match index.get(v) {
                    Some(c) => *c,
                    None => {
                        levels.push(v.to_owned());
                        let c = levels.len() as i32;
                        index.insert(v.to_owned(), c);
                        c
                    }
                },
            };
            codes.push(code);
        }
        let keys = cast(
            &arrow_array::make_array(dict.keys().to_data()),
            &DataType::Int32,
        )?;
        let keys = keys.as_primitive::<Int32Type>();
        for (i, k) in keys.iter().enumerate() {
            s[at] = match k {
                Some(k) if !c.is_null(i) => codes.get(k as usize).copied().unwrap_or(NA_INT),
                _ => NA_INT,
            };
            at += 1;
        }
    }
    let mut out = set_class(
        out,
        if field.dict_is_ordered().unwrap_or(false) {
            &["ordered", "factor"]
        } else {
            &["factor"]
        },
    )?;
    out.set_attrib("levels", Strings::from_values(levels))
        .map_err(|e| {
            to_r(batchmeta::Error::Internal(format!(
                "cannot set levels: {e}"
            )))
        })?;
    Ok(out)
}
