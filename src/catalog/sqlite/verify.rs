//! `verify`'s rows, in one read transaction; the checks are
//! `catalog::verify`'s.

use super::connect::Tx;
use super::statements as sql;
use crate::catalog::verify;
use crate::error::Result;
use crate::model::Violation;

impl Tx<'_> {
    pub(super) fn check_invariants(&self) -> Result<Vec<Violation>> {
        let pointers = self.all(sql::VERIFY_POINTERS, [], |r| verify::pointer(r))?;
        let moves = self.all(sql::VERIFY_MOVES, [], |r| verify::pointer_move(r))?;
        let totals = self.all(sql::VERIFY_TOTALS, [], |r| verify::totals(r))?;
        let files = self.all(sql::VERIFY_FILES, [], |r| verify::file(r))?;
        Ok(verify::check(&pointers, &moves, &totals, &files))
    }
}
