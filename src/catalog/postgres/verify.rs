//! `verify`'s rows, in one snapshot; the checks are `catalog::verify`'s.

use super::PostgresCatalog;
use super::statements as sql;
use crate::catalog::verify;
use crate::error::Result;
use crate::model::Violation;

impl PostgresCatalog {
    pub(super) async fn check_invariants_impl(&self) -> Result<Vec<Violation>> {
        let mut tx = self.read().await?;
        let pointers = sqlx::query(sql::VERIFY_POINTERS)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(verify::pointer)
            .collect::<Result<Vec<_>>>()?;
        let moves = sqlx::query(sql::VERIFY_MOVES)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(verify::pointer_move)
            .collect::<Result<Vec<_>>>()?;
        let totals = sqlx::query(sql::VERIFY_TOTALS)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(verify::totals)
            .collect::<Result<Vec<_>>>()?;
        let files = sqlx::query(sql::VERIFY_FILES)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(verify::file)
            .collect::<Result<Vec<_>>>()?;
        Ok(verify::check(&pointers, &moves, &totals, &files))
    }
}
