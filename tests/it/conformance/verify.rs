use batchmeta::model::KeyType;
use object_store::ObjectStoreExt;

use crate::harness::Env;

pub async fn verify_is_clean_and_finds_missing_files(env: &Env) {
    let t = env.table("s", "t", &[("d", KeyType::String)]).await;
    env.store(&t, "d=a", 0, 10, "a").await;
    let b = env.store(&t, "d=b", 0, 10, "b").await;
    env.store(&t, "d=b", 0, 10, "b2").await;
    let clean = env.ms.verify().await.unwrap();
    assert!(clean.is_clean(), "{:?}", clean.violations);
    assert_eq!(clean.batches, 3);
    assert!(clean.files >= 3);
    // Break it: remove a file of a committed batch behind the metastore's back.
    let victim = &b.batch.files[0].path;
    env.ms
        .storage()
        .store()
        .delete(&object_store::path::Path::parse(victim).unwrap())
        .await
        .unwrap();
    let broken = env.ms.verify().await.unwrap();
    assert_eq!(broken.violations.len(), 1, "{:?}", broken.violations);
    let v = &broken.violations[0];
    assert_eq!((v.invariant, v.code.as_str()), (2, "missing_file"));
    assert!(
        v.message.contains(victim.as_str()) && v.subject.contains(b.batch.id.as_str()),
        "{v:?}"
    );
}
