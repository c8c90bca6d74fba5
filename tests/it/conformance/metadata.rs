use batchmeta::ErrorKind;
use batchmeta::model::{
    Action, EventQuery, KeyType, MetadataUpdate, NamespaceName, NewNamespace, TableIdent,
};

use crate::harness::Env;

pub async fn namespaces_and_tables_are_managed_and_audited(env: &Env) {
    let ms = &env.ms;
    let ns = NamespaceName::new("sales").unwrap();
    let created = ms
        .create_namespace(
            &env.ctx,
            &NewNamespace {
                name: ns.clone(),
                description: Some("sales data".into()),
                owner: Some("ann".into()),
                properties: Default::default(),
            },
        )
        .await
        .unwrap();
    assert_eq!(created.owner.as_deref(), Some("ann"));
    let again = ms
        .create_namespace(
            &env.ctx,
            &NewNamespace {
                name: ns.clone(),
                description: None,
                owner: None,
                properties: Default::default(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(again.code(), "namespace_exists");

    let t = env
        .table("sales", "sold_items", &[("date", KeyType::Date)])
        .await;
    let dup = env
        .ms
        .create_table(
            &env.ctx,
            &batchmeta::model::NewTable {
                ident: t.clone(),
                schema: (*crate::harness::small_schema()).clone(),
                partition_keys: vec![],
                description: None,
                owner: None,
                properties: Default::default(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(dup.kind(), ErrorKind::AlreadyExists);

    let mut update = MetadataUpdate {
        description: Some("items sold".into()),
        ..Default::default()
    };
    update.set_properties.insert("team".into(), "growth".into());
    let updated = ms.update_table(&env.ctx, &t, &update).await.unwrap();
    assert_eq!(updated.description.as_deref(), Some("items sold"));
    assert_eq!(
        updated.properties.get("team").map(String::as_str),
        Some("growth")
    );
    let remove = MetadataUpdate {
        remove_properties: vec!["team".into()],
        owner: Some("bob".into()),
        ..Default::default()
    };
    let updated = ms.update_table(&env.ctx, &t, &remove).await.unwrap();
    assert!(updated.properties.is_empty());
    assert_eq!(updated.owner.as_deref(), Some("bob"));
    let nsu = ms
        .update_namespace(
            &env.ctx,
            &ns,
            &MetadataUpdate {
                owner: Some("cy".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(nsu.owner.as_deref(), Some("cy"));

    assert_eq!(ms.namespaces().await.unwrap().len(), 1);
    let tables = ms.tables(&ns).await.unwrap();
    assert_eq!(tables.len(), 1);
    assert_eq!(tables[0].partition_keys[0].name.as_str(), "date");

    // A partition key that is also a data column is refused.
    let bad = ms
        .create_table(
            &env.ctx,
            &batchmeta::model::NewTable {
                ident: TableIdent::new("sales", "other").unwrap(),
                schema: (*crate::harness::small_schema()).clone(),
                partition_keys: vec![
                    batchmeta::model::PartitionKey::new("id", KeyType::Int).unwrap(),
                ],
                description: None,
                owner: None,
                properties: Default::default(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(bad.code(), "invalid_partition_key");

    let actions: Vec<Action> = ms
        .events(&EventQuery::default())
        .await
        .unwrap()
        .items
        .iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        vec![
            Action::UpdateNamespace,
            Action::UpdateTable,
            Action::UpdateTable,
            Action::CreateTable,
            Action::CreateNamespace
        ]
    );
}

pub async fn dropped_tables_leave_listings_but_keep_history(env: &Env) {
    let t = env.table("s", "t", &[("p", KeyType::String)]).await;
    let stored = env.store(&t, "p=a", 0, 10, "x").await;
    env.ms.drop_table(&env.ctx, &t).await.unwrap();
    assert!(env.ms.tables(&t.namespace).await.unwrap().is_empty());
    assert_eq!(
        env.ms.table(&t).await.unwrap_err().code(),
        "table_not_found"
    );
    // Data stays in the store, history stays in the log.
    for f in &stored.batch.files {
        assert!(!env.object_bytes(&f.path).await.is_empty());
    }
    let q = EventQuery {
        table: Some(t.clone()),
        ..Default::default()
    };
    let actions: Vec<Action> = env
        .ms
        .events(&q)
        .await
        .unwrap()
        .items
        .iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        vec![Action::DropTable, Action::Publish, Action::CreateTable]
    );
    // The name can be used again; the new table starts empty, the old data stays.
    let t2 = env.table("s", "t", &[("p", KeyType::String)]).await;
    assert!(
        env.ms
            .partitions(&t2, &Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let s2 = env.store(&t2, "p=a", 0, 5, "y").await;
    assert_ne!(s2.batch.id, stored.batch.id);
    assert!(env.ms.verify().await.unwrap().is_clean());
}

/// Batch IDs stay strictly increasing when the clock stands still or steps back.
pub async fn batch_ids_with_a_stepping_clock<F, Fut>(open: F)
where
    F: FnOnce(std::sync::Arc<dyn batchmeta::catalog::Clock>) -> Fut,
    Fut: std::future::Future<Output = Env>,
{
    use chrono::{DateTime, TimeZone, Utc};
    use std::sync::Mutex;
    #[derive(Debug)]
    struct Stepping(Mutex<Vec<DateTime<Utc>>>);
    impl batchmeta::catalog::Clock for Stepping {
        fn now(&self) -> DateTime<Utc> {
            let mut v = self.0.lock().unwrap();
            if v.len() > 1 { v.remove(0) } else { v[0] }
        }
    }
    let t0 = Utc.with_ymd_and_hms(2016, 11, 2, 23, 42, 52).unwrap();
    let mut times = vec![t0; 6];
    times.extend([t0 - chrono::Duration::hours(1); 6]);
    times.extend([t0 + chrono::Duration::seconds(1); 6]);
    let env = open(std::sync::Arc::new(Stepping(Mutex::new(times)))).await;
    let t = env.table("s", "t", &[("d", KeyType::String)]).await;
    let mut ids = Vec::new();
    for i in 0..8 {
        ids.push(env.store(&t, "d=x", i, 1, "c").await.batch.id);
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert!(ids.iter().all(|id| id.as_str().len() == 20));
    assert!(ids[0].as_str().starts_with("20161102234252"), "{ids:?}");
    // Event times never decrease either, so as-of stays well defined.
    let ev = env
        .ms
        .events(&EventQuery {
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    assert!(ev.windows(2).all(|w| w[0].at >= w[1].at));
}
