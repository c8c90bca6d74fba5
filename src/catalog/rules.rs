//! Rules of the write protocol that every backend applies the same way,
//! written once here; the backends supply the rows.

use crate::model::{BatchId, Expect};

/// Whether a publish retried after it committed (every batch committed by
/// one commit) may answer that commit: only when each item's compare-and-swap
/// condition is what the commit found, i.e. the batch's parent. A retry with
/// another `expected_batch` would not have succeeded the first time either,
/// so it is a conflict, never a 200 (DESIGN §6, invariant 4).
pub(crate) fn retry_expectation_holds(expect: Option<&Expect>, parent: Option<&BatchId>) -> bool {
    match expect {
        None => true,
        Some(Expect::Empty) => parent.is_none(),
        Some(Expect::Batch(b)) => parent == Some(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_answers_its_commit_only_with_the_expectation_it_had() {
        let a = BatchId::parse("20161102234252000000").unwrap();
        let b = BatchId::parse("20161102234252000001").unwrap();
        assert!(retry_expectation_holds(None, Some(&a)));
        assert!(retry_expectation_holds(
            Some(&Expect::Batch(a.clone())),
            Some(&a)
        ));
        assert!(!retry_expectation_holds(Some(&Expect::Batch(b)), Some(&a)));
        assert!(!retry_expectation_holds(Some(&Expect::Empty), Some(&a)));
        assert!(retry_expectation_holds(Some(&Expect::Empty), None));
        assert!(!retry_expectation_holds(Some(&Expect::Batch(a)), None));
    }
}
