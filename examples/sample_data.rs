//! Writes the small Parquet files the README's curl tour uploads:
//! `examples/data/sold_items-1.parquet` and `-2.parquet` (item_id, price).
//!
//! Run it with `cargo run --example sample_data`.

use std::sync::Arc;

use arrow_array::{Float64Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("item_id", DataType::Int64, false),
        Field::new("price", DataType::Float64, true),
    ]));
    for (n, price) in [(1, 9.99), (2, 0.0)] {
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![1, 2, 3])),
                Arc::new(Float64Array::from(vec![price; 3])),
            ],
        )?;
        let path = format!("examples/data/sold_items-{n}.parquet");
        let mut w = parquet::arrow::ArrowWriter::try_new(
            std::fs::File::create(&path)?,
            schema.clone(),
            None,
        )?;
        w.write(&batch)?;
        w.close()?;
        println!("wrote {path}");
    }
    Ok(())
}
