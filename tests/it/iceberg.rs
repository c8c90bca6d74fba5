//! The read-only Iceberg REST catalog (`/iceberg`), in process: generated
//! metadata (snapshots, log, refs, cap), files written once under
//! `_iceberg/`, refused writes and error bodies. The real clients (DuckDB,
//! pyiceberg) are driven by `bindings/python/tests/test_iceberg.py`.

use std::collections::BTreeMap;

use batchmeta::model::{KeyType, NewPin, PartitionSpec, PinName, PinTarget};
use batchmeta::server::ServerConfig;
use serde_json::Value;

use crate::harness::Env;
use crate::remote::served_env;

async fn server(config: ServerConfig) -> (Env, String) {
    let (env, base) = served_env(config).await;
    (env, format!("{base}/iceberg/v1"))
}

async fn call(method: reqwest::Method, url: &str) -> (u16, Value) {
    let res = reqwest::Client::new()
        .request(method, url)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn get(url: &str) -> (u16, Value) {
    call(reqwest::Method::GET, url).await
}

fn iceberg_files(objects: &BTreeMap<String, u64>) -> Vec<String> {
    objects
        .keys()
        .filter(|k| k.contains("/_iceberg/"))
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_table_generates_history_tags_and_files_once() {
    let (env, base) = server(ServerConfig::default()).await;
    let t = env
        .table("sales", "sold_items", &[("date", KeyType::Date)])
        .await;
    let first = env.store(&t, "date=2016-10-31", 0, 5, "a").await;
    env.store(&t, "date=2016-11-01", 10, 3, "b").await;
    env.store(&t, "date=2016-10-31", 20, 2, "c").await;
    env.ms
        .create_pin(
            &env.ctx,
            &t,
            &NewPin {
                name: PinName::new("weekly_report").unwrap(),
                owner: None,
                reason: None,
                target: PinTarget::Batch {
                    partition: env
                        .ms
                        .partition(&t, &PartitionSpec::parse("date=2016-10-31").unwrap())
                        .await
                        .unwrap(),
                    batch: first.batch.id.clone(),
                },
                expires_at: None,
            },
        )
        .await
        .unwrap();
    let before = env.snapshot().await;
    assert!(iceberg_files(&before.objects).is_empty());

    let (status, body) = get(&format!("{base}/namespaces/sales/tables/sold_items")).await;
    assert_eq!(status, 200, "{body}");
    let m = &body["metadata"];
    assert_eq!(m["format-version"], 2);
    let snaps = m["snapshots"].as_array().unwrap();
    let log = m["snapshot-log"].as_array().unwrap();
    assert_eq!(log.len(), 3, "one snapshot per pointer move");
    assert_eq!(snaps.len(), 4, "three states and the pin's tag");
    assert_eq!(log[2]["snapshot-id"], m["current-snapshot-id"]);
    assert_eq!(m["refs"]["main"]["snapshot-id"], m["current-snapshot-id"]);
    assert_eq!(m["refs"]["main"]["type"], "branch");
    assert_eq!(m["refs"]["weekly_report"]["type"], "tag");
    assert_eq!(snaps[1]["parent-snapshot-id"], snaps[0]["snapshot-id"]);
    assert_eq!(m["last-sequence-number"], m["current-snapshot-id"]);
    assert!(
        m["properties"]["schema.name-mapping.default"]
            .as_str()
            .unwrap()
            .contains("\"date\"")
    );
    assert_eq!(
        m["partition-specs"][0]["fields"][0]["transform"],
        "identity"
    );

    // The catalog is unchanged; the files are under _iceberg/ only.
    let after = env.snapshot().await;
    assert_eq!(after.rows, before.rows);
    assert_eq!(after.max_event, before.max_event);
    let files = iceberg_files(&after.objects);
    let manifests = files.iter().filter(|f| f.contains("/manifests/")).count();
    assert_eq!(manifests, 3, "one manifest per published batch: {files:?}");
    for (k, v) in &before.objects {
        assert_eq!(after.objects.get(k), Some(v), "{k} changed");
    }

    // A second load writes nothing.
    let (_, again) = get(&format!("{base}/namespaces/sales/tables/sold_items")).await;
    assert_eq!(again, body);
    assert_eq!(env.snapshot().await.objects, after.objects);

    // One more publish: one manifest, one list, one metadata file.
    env.store(&t, "date=2016-11-02", 30, 1, "d").await;
    let (_, next) = get(&format!("{base}/namespaces/sales/tables/sold_items")).await;
    let added: Vec<_> = iceberg_files(&env.snapshot().await.objects)
        .into_iter()
        .filter(|f| !files.contains(f))
        .collect();
    assert_eq!(added.len(), 3, "{added:?}");
    assert_eq!(
        next["metadata"]["snapshot-log"].as_array().unwrap().len(),
        4
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_are_capped_and_virtual_tables_have_one() {
    let (env, base) = server(ServerConfig {
        iceberg_max_snapshots: 2,
        ..ServerConfig::default()
    })
    .await;
    let t = env.table("sales", "flat", &[]).await;
    env.store(&t, "", 0, 1, "a").await;
    let between = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    env.store(&t, "", 0, 2, "b").await;
    env.store(&t, "", 0, 3, "c").await;
    let (status, body) = get(&format!("{base}/namespaces/sales/tables/flat")).await;
    assert_eq!(status, 200, "{body}");
    let snaps = body["metadata"]["snapshots"].as_array().unwrap();
    assert_eq!(snaps.len(), 2);
    assert!(snaps[0].get("parent-snapshot-id").is_none());
    assert_eq!(
        body["metadata"]["partition-specs"][0]["fields"],
        Value::Array(vec![])
    );

    let at = between.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let (status, v) = get(&format!("{base}/namespaces/sales/tables/flat@{at}")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["metadata"]["snapshots"].as_array().unwrap().len(), 1);
    assert_eq!(
        v["metadata"]["snapshot-log"][0]["snapshot-id"],
        v["metadata"]["current-snapshot-id"]
    );
    // Never listed.
    let (_, list) = get(&format!("{base}/namespaces/sales/tables")).await;
    assert_eq!(
        list["identifiers"],
        serde_json::json!([{"namespace": ["sales"], "name": "flat"}])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_are_refused_and_bad_input_gets_iceberg_errors() {
    use reqwest::Method as M;
    let (env, base) = server(ServerConfig::default()).await;
    let t = env.table("sales", "t", &[("n", KeyType::Int)]).await;
    env.store(&t, "n=1", 0, 1, "a").await;
    let before = env.snapshot().await;
    for (method, path) in [
        (M::POST, "/namespaces"),
        (M::DELETE, "/namespaces/sales"),
        (M::POST, "/namespaces/sales/properties"),
        (M::POST, "/namespaces/sales/tables"),
        (M::POST, "/namespaces/sales/register"),
        (M::POST, "/namespaces/sales/tables/t"),
        (M::DELETE, "/namespaces/sales/tables/t"),
        (M::POST, "/tables/rename"),
        (M::POST, "/transactions/commit"),
    ] {
        let (status, body) = call(method.clone(), &format!("{base}{path}")).await;
        assert_eq!(status, 403, "{method} {path}: {body}");
        assert_eq!(body["error"]["type"], "ForbiddenException");
        assert_eq!(body["error"]["code"], 403);
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("store_dataframe")
        );
    }
    assert_eq!(
        env.snapshot().await,
        before,
        "a refused write changed something"
    );

    for (path, status, kind) in [
        ("/namespaces/nope", 404, "NoSuchNamespaceException"),
        ("/namespaces/nope/tables", 404, "NoSuchNamespaceException"),
        ("/namespaces/sales/tables/nope", 404, "NoSuchTableException"),
        (
            "/namespaces/sales/tables/t@nopin",
            404,
            "NoSuchTableException",
        ),
        ("/namespaces/Sales", 400, "BadRequestException"),
        ("/namespaces/a%1Fb", 400, "BadRequestException"),
        ("/namespaces/sales/tables/t@", 400, "BadRequestException"),
        (
            "/namespaces/sales/tables/t@2016-13-01",
            400,
            "BadRequestException",
        ),
        ("/nope", 404, "NotFoundException"),
    ] {
        let (got, body) = get(&format!("{base}{path}")).await;
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(body["error"]["type"], kind, "{path}: {body}");
        assert_eq!(body["error"]["code"], status, "{path}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
}
