//! Partitions: listed or resolved through the facade under the table's
//! version, selected by name, values or a filter, and truncated to the
//! caller's maximum.

use super::*;

impl Service {
    // ---- partitions ------------------------------------------------------

    /// Every partition under the requested version, resolved through the
    /// facade (pins and as-of times), in partition order.
    pub(super) async fn resolved(&self, tr: &TableRef) -> Result<Vec<Part>, Fail> {
        let req = ResolveRequest {
            partitions: None,
            version: tr.version.clone(),
        };
        let mut parts: Vec<Part> = self
            .ms
            .resolve(&tr.table.ident, &req)
            .await?
            .into_iter()
            .map(|r| Part {
                location: storage::uri(self.ms.warehouse_url(), &r.batch.location),
                updated: r.batch.committed_at.unwrap_or(r.batch.created_at),
                batch: r.batch.id.to_string(),
                values: r.partition,
            })
            .collect();
        parts.sort_by(|a, b| a.values.cmp(&b.values));
        Ok(parts)
    }

    /// The current partitions in `range` of the first key (all when
    /// `None`), a page at a time through the catalog's index.
    pub(super) async fn listed(
        &self,
        tr: &TableRef,
        range: Option<&KeyRange>,
        out: &mut Vec<Part>,
    ) -> Result<(), Fail> {
        let mut cursor = None;
        loop {
            let q = PartitionQuery {
                prefix: None,
                from: range.and_then(|r| r.from.clone()),
                to: range.and_then(|r| r.to.clone()),
                cursor: cursor.take(),
                limit: Some(MAX_PAGE),
            };
            let page = self.ms.partitions(&tr.table.ident, &q).await?;
            for p in page.items {
                let loc = storage::batch_location(&tr.table.location, &p.partition, &p.current);
                out.push(Part {
                    location: storage::uri(self.ms.warehouse_url(), &loc),
                    updated: p.updated_at,
                    batch: p.current.to_string(),
                    values: p.partition,
                });
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(()),
            }
        }
    }

    /// The partitions a selection picks, in partition order.
    pub(super) async fn select(&self, tr: &TableRef, sel: &Select) -> Result<Vec<Part>, Fail> {
        let keys = &tr.table.partition_keys;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let sel = sel.checked(keys)?;
        let mut parts = Vec::new();
        if tr.version == Version::Current {
            match sel.ranges(keys) {
                Some(ranges) => {
                    for r in &ranges {
                        self.listed(tr, Some(r), &mut parts).await?;
                    }
                }
                None => self.listed(tr, None, &mut parts).await?,
            }
        } else {
            parts = self.resolved(tr).await?;
        }
        parts.retain(|p| sel.matches(keys, &p.values));
        Ok(parts)
    }

    pub(super) async fn partitions(&self, args: &Fields, sel: Select, max_id: i16) -> Outcome {
        let tr = self.args_table(args).await?;
        let mut parts = self.select(&tr, &sel).await?;
        truncate(&mut parts, args, max_id);
        let mut w = Writer::default();
        w.field(ttype::LIST, 0);
        w.list_begin(ttype::STRUCT, parts.len());
        for p in &parts {
            mapping::partition(&mut w, &tr.db, &tr.name, &tr.table, p);
        }
        Ok(w)
    }

    pub(super) async fn partition_names(&self, args: &Fields, sel: Select, max_id: i16) -> Outcome {
        let tr = self.args_table(args).await?;
        let mut parts = self.select(&tr, &sel).await?;
        truncate(&mut parts, args, max_id);
        let names: Vec<String> = parts.iter().map(|p| p.values.path()).collect();
        Ok(strings_success(&names))
    }

    pub(super) async fn count_partitions(&self, args: &Fields, sel: Select) -> Outcome {
        let tr = self.args_table(args).await?;
        let n = self.select(&tr, &sel).await?.len();
        let mut w = Writer::default();
        w.i32_field(0, i32::try_from(n).unwrap_or(i32::MAX));
        Ok(w)
    }

    pub(super) async fn one_partition(&self, args: &Fields, spec: PartitionSpec) -> Outcome {
        let tr = self.args_table(args).await?;
        let values = PartitionValues::resolve(&tr.table.partition_keys, &spec)?;
        let parts = self
            .select(&tr, &Select::Exact(vec![values.clone()]))
            .await?;
        let p = parts.into_iter().next().ok_or_else(|| {
            Fail::not_found(format!(
                "partition {} of {}.{} not found (never published, or not in this version)",
                values.path(),
                tr.db,
                tr.name
            ))
        })?;
        let mut w = Writer::default();
        w.field(ttype::STRUCT, 0);
        mapping::partition(&mut w, &tr.db, &tr.name, &tr.table, &p);
        Ok(w)
    }
}

/// Which partitions a call asks for.
#[derive(Debug)]
pub(super) enum Select {
    All,
    Filter(Expr),
    /// Partition names, `k=v/k2=v2`.
    Names(Vec<String>),
    /// Leading values, `""` for any (`get_partitions_ps`).
    Values(Vec<String>),
    Exact(Vec<PartitionValues>),
}

impl Select {
    pub(super) fn from_filter(e: Option<Expr>) -> Self {
        e.map_or(Select::All, Select::Filter)
    }

    /// Validates the selection against the keys; names become values.
    fn checked(&self, keys: &[crate::model::PartitionKey]) -> Result<Select, Fail> {
        Ok(match self {
            Select::All => Select::All,
            Select::Filter(e) => {
                e.check_keys(keys)?;
                Select::Filter(e.clone())
            }
            Select::Names(names) => Select::Exact(
                names
                    .iter()
                    // A name that does not parse names no partition.
                    .filter_map(|n| {
                        PartitionSpec::parse(n)
                            .and_then(|s| PartitionValues::resolve(keys, &s))
                            .ok()
                    })
                    .collect(),
            ),
            Select::Values(vals) => {
                if vals.len() > keys.len() {
                    return Err(Fail::meta(format!(
                        "{} partition values given; the table has {} keys",
                        vals.len(),
                        keys.len()
                    )));
                }
                Select::Values(vals.clone())
            }
            Select::Exact(v) => Select::Exact(v.clone()),
        })
    }

    /// First-key ranges that hold every match, for the catalog's index.
    fn ranges(&self, keys: &[crate::model::PartitionKey]) -> Option<Vec<KeyRange>> {
        match self {
            Select::All => None,
            Select::Filter(e) => e.first_key_ranges(keys),
            Select::Exact(vs) => {
                let mut firsts: Vec<String> = vs
                    .iter()
                    .filter_map(|v| v.values().next().map(str::to_owned))
                    .collect();
                firsts.sort();
                firsts.dedup();
                Some(
                    firsts
                        .into_iter()
                        .map(|v| KeyRange {
                            from: Some(v.clone()),
                            to: Some(v),
                        })
                        .collect(),
                )
            }
            Select::Values(vals) => {
                let first = vals.first().filter(|v| !v.is_empty())?;
                let spec = PartitionSpec::value(first.clone());
                let v = PartitionValues::resolve(&keys[..1], &spec).ok()?;
                let v = v.values().next()?.to_owned();
                Some(vec![KeyRange {
                    from: Some(v.clone()),
                    to: Some(v),
                }])
            }
            Select::Names(_) => None,
        }
    }

    fn matches(&self, keys: &[crate::model::PartitionKey], values: &PartitionValues) -> bool {
        match self {
            Select::All | Select::Names(_) => true,
            Select::Filter(e) => e.matches(keys, values),
            Select::Exact(vs) => vs.contains(values),
            Select::Values(vals) => {
                vals.iter()
                    .zip(keys)
                    .zip(values.values())
                    .all(|((want, k), got)| {
                        want.is_empty()
                            || PartitionValues::resolve(
                                std::slice::from_ref(k),
                                &PartitionSpec::value(want.clone()),
                            )
                            .ok()
                            .and_then(|c| c.values().next().map(|c| c == got))
                            .unwrap_or(want == got)
                    })
            }
        }
    }
}

pub(super) fn parse_filter(args: &Fields) -> Result<Option<Expr>, Fail> {
    Ok(filter::parse(&args.string(3).unwrap_or_default())?)
}

pub(super) fn truncate(parts: &mut Vec<Part>, args: &Fields, max_id: i16) {
    if max_id == 0 {
        return;
    }
    if let Some(max) = args.i64_of(max_id).filter(|m| *m >= 0) {
        parts.truncate(usize::try_from(max).unwrap_or(usize::MAX));
    }
}
