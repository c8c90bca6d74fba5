//! Delivery feeds (the OpenLineage cursor): created at the end of the log,
//! one holder at a time until its lease runs out, a cursor that only moves
//! forward. A remote catalog refuses them (they run beside the database).

use std::time::Duration;

use batchmeta::Code;
use batchmeta::model::EventQuery;

use crate::harness::Env;

pub async fn openlineage_feed_has_one_holder_and_a_durable_cursor(env: &Env) {
    let ms = &env.ms;
    let long = Duration::from_secs(3600);
    let first = match ms.claim_feed("test-feed", "a", long).await {
        Err(e) => {
            assert!(e.is(Code::NotSupportedRemotely), "{e:?}");
            return;
        }
        Ok(c) => c.expect("a new feed is claimed by its first caller"),
    };
    let newest = ms
        .events(&EventQuery {
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .first()
        .map_or(0, |e| e.id);
    assert_eq!(first, newest, "a new feed starts at the end of the log");
    assert_eq!(ms.claim_feed("test-feed", "b", long).await.unwrap(), None);
    assert!(
        !ms.advance_feed("test-feed", "b", first + 5, long)
            .await
            .unwrap()
    );
    assert!(
        ms.advance_feed("test-feed", "a", first + 5, long)
            .await
            .unwrap()
    );
    assert!(
        ms.advance_feed("test-feed", "a", first + 1, long)
            .await
            .unwrap()
    );
    assert_eq!(
        ms.claim_feed("test-feed", "a", long).await.unwrap(),
        Some(first + 5),
        "the cursor never moves back"
    );
    // Another feed is its own.
    assert_eq!(
        ms.claim_feed("other-feed", "b", long).await.unwrap(),
        Some(newest)
    );
    // A lease that ran out: b takes over; a can no longer advance.
    assert!(
        ms.claim_feed("test-feed", "a", Duration::ZERO)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        ms.claim_feed("test-feed", "b", long).await.unwrap(),
        Some(first + 5)
    );
    assert!(
        !ms.advance_feed("test-feed", "a", first + 9, long)
            .await
            .unwrap()
    );
    assert_eq!(ms.claim_feed("test-feed", "a", long).await.unwrap(), None);
    let e = ms.claim_feed("", "a", long).await.unwrap_err();
    assert!(e.is(Code::InvalidText), "{e:?}");
}
