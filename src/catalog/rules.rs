//! Rules of the write protocol that every backend applies the same way,
//! written once here; the backends supply the rows.

use crate::model::{BatchId, Expect};

/// Whether a publish retried after it committed (every batch committed by
/// one commit) may answer that commit, for an item that carries a
/// compare-and-swap condition (one without any always may): only when the
/// condition is what the commit found, i.e. the batch's parent. A retry with
/// another `expected_batch` would not have succeeded the first time either,
/// so it is a conflict, never a 200 (DESIGN §6, invariant 4).
pub(crate) fn retry_expectation_holds(expect: &Expect, parent: Option<&BatchId>) -> bool {
    match expect {
        Expect::Empty => parent.is_none(),
        Expect::Batch(b) => parent == Some(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_answers_its_commit_only_with_the_expectation_it_had() {
        let a = BatchId::parse("20161102234252000000").unwrap();
        let b = BatchId::parse("20161102234252000001").unwrap();
        assert!(retry_expectation_holds(&Expect::Batch(a.clone()), Some(&a)));
        assert!(!retry_expectation_holds(&Expect::Batch(b), Some(&a)));
        assert!(!retry_expectation_holds(&Expect::Empty, Some(&a)));
        assert!(retry_expectation_holds(&Expect::Empty, None));
        assert!(!retry_expectation_holds(&Expect::Batch(a), None));
    }
}
