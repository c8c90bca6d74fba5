//! A tour of batchmeta as a Rust library on the embedded default
//! (`.batchmeta/`: a SQLite catalog and a local warehouse).
//!
//! Run it with `cargo run --example tour`.

use std::sync::Arc;

use arrow_array::{Float64Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use batchmeta::model::{
    Context, EventQuery, KeyType, NamespaceName, NewNamespace, NewPin, NewTable, PartitionKey,
    PartitionSpec, PinName, PinTarget, RollbackRequest, TableIdent, Version,
};
use batchmeta::{Config, Metastore, ReadRequest, ResolveRequest, StoreOptions};
use futures::TryStreamExt;

#[tokio::main]
async fn main() -> batchmeta::Result<()> {
    let config = Config::default();
    let ms = Metastore::open(&config).await?;
    eprintln!(
        "catalog: {}\nwarehouse: {}",
        config.resolved_database_url(),
        ms.storage().url()
    );
    let ctx = Context::new("tour");

    // A namespace and a table partitioned by date.
    let ns = NamespaceName::new("sales")?;
    if ms.namespace(&ns).await.is_err() {
        let new = NewNamespace {
            name: ns,
            description: None,
            owner: None,
            properties: Default::default(),
        };
        ms.create_namespace(&ctx, &new).await?;
    }
    let table = TableIdent::parse("sales.sold_items")?;
    let schema = Arc::new(Schema::new(vec![
        Field::new("item_id", DataType::Int64, false),
        Field::new("price", DataType::Float64, true),
    ]));
    if ms.table(&table).await.is_err() {
        let new = NewTable {
            ident: table.clone(),
            schema: (*schema).clone(),
            partition_keys: vec![PartitionKey::new("date", KeyType::Date)?],
            description: Some("items sold, one partition per day".into()),
            owner: Some("data-eng".into()),
            properties: Default::default(),
        };
        ms.create_table(&ctx, &new).await?;
    }

    // Three overwrites of one partition: three batches, nothing overwritten.
    let day = PartitionSpec::parse("date=2016-10-31")?;
    for (i, price) in [9.99, 19.99, 0.0].into_iter().enumerate() {
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![1, 2, 3])),
                Arc::new(Float64Array::from(vec![price; 3])),
            ],
        )?;
        let stream = futures::stream::iter(vec![Ok(batch)]);
        let stored = ms
            .store(
                &ctx,
                &table,
                &day,
                schema.clone(),
                stream,
                &StoreOptions::default(),
            )
            .await?;
        println!(
            "write {}: batch {} at {}",
            i + 1,
            stored.batch.id,
            stored.batch.location
        );
    }

    // The last write was bad (prices of 0.0): roll the partition back.
    let event = ms
        .rollback(&ctx, &table, &day, &RollbackRequest::default())
        .await?;
    println!(
        "rolled back {} -> {}",
        event.from_batch.map(|b| b.to_string()).unwrap_or_default(),
        event.to_batch.map(|b| b.to_string()).unwrap_or_default()
    );

    // Read it back: partition columns restored.
    let req = ReadRequest {
        resolve: ResolveRequest {
            partitions: Some(vec![day.clone()]),
            version: Version::Current,
        },
        columns: None,
        filters: vec![],
    };
    let (_, rows) = ms.read(&table, &req).await?;
    let batches: Vec<RecordBatch> = rows.try_collect().await?;
    println!("{}", arrow::util::pretty::pretty_format_batches(&batches)?);

    // History of the partition, newest first.
    for e in ms.history(&table, &day, None, Some(10)).await?.items {
        println!(
            "{} {:>8} {:?} -> {:?} by {}",
            e.at,
            e.action.as_str(),
            e.from_batch,
            e.to_batch,
            e.principal
        );
    }

    // Pin the current batch for a downstream report.
    let current = ms
        .resolve(
            &table,
            &ResolveRequest {
                partitions: Some(vec![day.clone()]),
                version: Version::Current,
            },
        )
        .await?;
    let pin = PinName::new("monthly_report")?;
    if ms.pin(&table, &pin).await.is_err() {
        let new = NewPin {
            name: pin,
            owner: Some("finance".into()),
            reason: Some("October close".into()),
            target: PinTarget::Batch {
                partition: current[0].partition.clone(),
                batch: current[0].batch.id.clone(),
            },
            expires_at: None,
        };
        ms.create_pin(&ctx, &table, &new).await?;
    }
    let holders = ms.pins_holding(&table, &current[0].batch.id).await?;
    println!(
        "pins holding {}: {:?}",
        current[0].batch.id,
        holders
            .iter()
            .map(|p| p.name.to_string())
            .collect::<Vec<_>>()
    );

    // The audit trail and a full check of every invariant.
    let events = ms
        .events(&EventQuery {
            table: Some(table.clone()),
            limit: Some(5),
            ..Default::default()
        })
        .await?;
    println!(
        "latest events: {:?}",
        events
            .items
            .iter()
            .map(|e| e.action.as_str())
            .collect::<Vec<_>>()
    );
    let report = ms.verify().await?;
    println!(
        "verify: {} batches, {} files, {} violations",
        report.batches,
        report.files,
        report.violations.len()
    );
    Ok(())
}
