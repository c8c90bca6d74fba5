//! Pins: a consumer's named claim on a batch or on the table as of a time.

use chrono::{DateTime, Utc};

use super::connect::Tx;
use super::rows::micros;
use super::statements as sql;
use crate::catalog::row::{self, Columns, NewEvent, TableRow};
use crate::catalog::{errors, rules};
use crate::error::{Error, Object, Result};
use crate::model::{Action, BatchId, Context, NewPin, Pin, PinName, PinTarget, TableIdent};

impl Tx<'_> {
    pub(super) fn pin(&self, t: &TableRow, name: &PinName) -> Result<Pin> {
        self.first(sql::PIN, (t.id, name.as_str()), |r| row::pin(r, t))?
            .ok_or_else(|| errors::pin_not_found(&t.table.ident, name))
    }

    pub(super) fn create_pin(
        &self,
        now: DateTime<Utc>,
        ctx: &Context,
        ident: &TableIdent,
        pin: &NewPin,
    ) -> Result<Pin> {
        let t = self.live_table(ident)?;
        rules::pin_times(pin, now)?;
        let (partition_id, batch_id, as_of) = match &pin.target {
            PinTarget::Batch { partition, batch } => {
                let b = self.load_batch(&t, batch)?;
                rules::pinnable(&t.table.ident, partition, &b)?;
                let pid = self
                    .partition_id(t.id, partition)?
                    .ok_or_else(|| errors::never_published(&t.table.ident, partition))?;
                (Some(pid), Some(batch.as_str()), None)
            }
            PinTarget::AsOf { at } => (None, None, Some(micros(*at))),
        };
        let inserted = self.run(
            sql::INSERT_PIN,
            rusqlite::params![
                t.id,
                pin.name.as_str(),
                &pin.owner,
                &pin.reason,
                partition_id,
                batch_id,
                as_of,
                micros(now),
                pin.expires_at.map(micros),
            ],
        )?;
        if inserted == 0 {
            return Err(errors::already_exists(
                Object::Pin,
                format!("{} on {ident}", pin.name),
            ));
        }
        let out = self.pin(&t, &pin.name)?;
        let e = NewEvent::pin(ctx, Action::CreatePin, &t, &out, pin.reason.as_deref());
        self.insert_event(now, e)?;
        Ok(out)
    }

    pub(super) fn pins(&self, ident: Option<&TableIdent>) -> Result<Vec<Pin>> {
        let tables = match ident {
            Some(i) => vec![self.live_table(i)?],
            None => {
                let ids = self.all(sql::PINNED_TABLES, [], |r| r.int(0))?;
                ids.into_iter()
                    .map(|id| self.table_by_id(id))
                    .collect::<Result<Vec<_>>>()?
            }
        };
        let mut out = Vec::new();
        for t in &tables {
            out.extend(self.all(sql::TABLE_PINS, [t.id], |r| row::pin(r, t))?);
        }
        Ok(out)
    }

    pub(super) fn delete_pin(
        &self,
        now: DateTime<Utc>,
        ctx: &Context,
        ident: &TableIdent,
        name: &PinName,
    ) -> Result<()> {
        let t = self.live_table(ident)?;
        let pin = self.pin(&t, name)?;
        self.run(sql::DELETE_PIN, (t.id, name.as_str()))?;
        let e = NewEvent::pin(ctx, Action::DeletePin, &t, &pin, None);
        self.insert_event(now, e)?;
        Ok(())
    }

    pub(super) fn pins_holding(
        &self,
        now: DateTime<Utc>,
        ident: &TableIdent,
        batch: &BatchId,
    ) -> Result<Vec<Pin>> {
        let t = self.live_table(ident)?;
        let b = self.load_batch(&t, batch)?;
        let pid = self
            .partition_id(t.id, &b.partition)?
            .ok_or_else(|| Error::Internal("a batch without its partition".into()))?;
        let candidates = self.all(
            sql::PINS_HOLDING,
            (t.id, batch.as_str(), micros(now)),
            |r| row::pin(r, &t),
        )?;
        let mut out = Vec::new();
        for pin in candidates {
            let holds = match &pin.target {
                PinTarget::Batch { .. } => true,
                PinTarget::AsOf { at } => self.batch_as_of(pid, *at)?.as_ref() == Some(batch),
            };
            if holds {
                out.push(pin);
            }
        }
        Ok(out)
    }
}
