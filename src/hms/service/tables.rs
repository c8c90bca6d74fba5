//! Databases and tables: namespaces as Hive databases, tables (and their
//! virtual `t@pin` / `t@time` names) as Hive tables.

use super::*;

impl Service {
    // ---- databases -------------------------------------------------------

    pub(super) fn db_location(&self, db: &str) -> String {
        storage::uri(self.ms.warehouse_url(), db)
    }

    pub(super) async fn get_database(&self, args: &Fields) -> Outcome {
        let name = args.string(1).unwrap_or_default().to_lowercase();
        let ns = NamespaceName::new(&name).map_err(|_| no_db(&name))?;
        match self.ms.namespace(&ns).await {
            Ok(ns) => Ok(success_struct(|w| {
                mapping::namespace_database(w, &ns, &self.db_location(ns.name.as_str()));
            })),
            // Hive clients check for `default` on every connection.
            Err(e) if e.kind() == ErrorKind::NotFound && name == "default" => {
                Ok(success_struct(|w| {
                    mapping::default_database(w, self.ms.warehouse_url());
                }))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Err(no_db(&name)),
            Err(e) => Err(e.into()),
        }
    }

    pub(super) async fn database_names(&self) -> Result<Vec<String>, Fail> {
        let mut names: Vec<String> = self
            .ms
            .namespaces()
            .await?
            .into_iter()
            .map(|n| n.name.to_string())
            .collect();
        if !names.iter().any(|n| n == "default") {
            names.push("default".into());
            names.sort();
        }
        Ok(names)
    }

    pub(super) async fn get_databases(&self, pattern: Option<&str>) -> Outcome {
        let names: Vec<String> = self
            .database_names()
            .await?
            .into_iter()
            .filter(|n| pattern.is_none_or(|p| pattern_matches(p, n)))
            .collect();
        Ok(strings_success(&names))
    }

    // ---- tables ----------------------------------------------------------

    /// The tables of `db` (none for a stand-in `default`).
    pub(super) async fn db_tables(&self, db: &str) -> Result<Vec<Table>, Fail> {
        let db = db.to_lowercase();
        let ns = NamespaceName::new(&db).map_err(|_| no_db(&db))?;
        match self.ms.tables(&ns).await {
            Ok(t) => Ok(t),
            Err(e) if e.kind() == ErrorKind::NotFound && db == "default" => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }

    pub(super) async fn get_tables(
        &self,
        args: &Fields,
        pattern: Option<&str>,
        ty: Option<&str>,
    ) -> Outcome {
        let db = args.string(1).unwrap_or_default();
        let wanted_type =
            ty.is_none_or(|t| t.is_empty() || t.eq_ignore_ascii_case("EXTERNAL_TABLE"));
        let names: Vec<String> = if wanted_type {
            self.db_tables(&db)
                .await?
                .into_iter()
                .map(|t| t.ident.name.to_string())
                .filter(|n| pattern.is_none_or(|p| pattern_matches(p, n)))
                .collect()
        } else {
            Vec::new()
        };
        Ok(strings_success(&names))
    }

    pub(super) async fn get_table_meta(&self, args: &Fields) -> Outcome {
        let db_pattern = args.string(1).unwrap_or_else(|| "*".into());
        let tbl_pattern = args.string(2).unwrap_or_else(|| "*".into());
        let types = args.strings(3).unwrap_or_default();
        let mut rows = Vec::new();
        if types.is_empty()
            || types
                .iter()
                .any(|t| t.eq_ignore_ascii_case("EXTERNAL_TABLE"))
        {
            for db in self.database_names().await? {
                if !pattern_matches(&db_pattern, &db) {
                    continue;
                }
                for t in self.db_tables(&db).await? {
                    if pattern_matches(&tbl_pattern, t.ident.name.as_str()) {
                        rows.push(t);
                    }
                }
            }
        }
        let mut w = Writer::default();
        w.field(ttype::LIST, 0);
        w.list_begin(ttype::STRUCT, rows.len());
        for t in &rows {
            w.string_field(1, t.ident.namespace.as_str());
            w.string_field(2, t.ident.name.as_str());
            w.string_field(3, "EXTERNAL_TABLE");
            w.opt_string_field(4, t.description.as_deref());
            w.stop();
        }
        Ok(w)
    }

    /// Resolves a table name, virtual ones included.
    pub(super) async fn table_ref(&self, db: &str, name: &str) -> Result<TableRef, Fail> {
        let db = db.to_lowercase();
        let asked = name.to_lowercase();
        let not_found = || Fail::not_found(format!("table {db}.{asked} not found"));
        let parsed = match VirtualTable::parse(&asked) {
            Ok(v) => v,
            Err(e) if asked.contains('@') => {
                return Err(Fail::not_found(format!(
                    "table {db}.{asked} not found: {e}"
                )));
            }
            Err(_) => return Err(not_found()),
        };
        let version = parsed.version;
        let ident = TableIdent::new(&db, parsed.table.as_str()).map_err(|_| not_found())?;
        let table = self.ms.table(&ident).await?;
        if let Version::Pin(p) = &version {
            // An unknown pin is an unknown (virtual) table.
            self.ms.pin(&ident, p).await?;
        }
        Ok(TableRef {
            db,
            name: asked,
            table,
            version,
        })
    }

    pub(super) async fn args_table(&self, args: &Fields) -> Result<TableRef, Fail> {
        let db = args.string(1).unwrap_or_default();
        let name = args.string(2).unwrap_or_default();
        self.table_ref(&db, &name).await
    }

    /// The table's location: its prefix, or for an unpartitioned table the
    /// batch prefix it reads under the requested version.
    pub(super) async fn table_location(&self, tr: &TableRef) -> Result<String, Fail> {
        if tr.table.partition_keys.is_empty() {
            let parts = self.resolved(tr).await?;
            if let Some(p) = parts.into_iter().next() {
                return Ok(p.location);
            }
        }
        Ok(storage::uri(self.ms.warehouse_url(), &tr.table.location))
    }

    pub(super) async fn write_table(&self, w: &mut Writer, tr: &TableRef) -> Result<(), Fail> {
        let location = self.table_location(tr).await?;
        mapping::table(w, &tr.db, &tr.name, &tr.table, &location);
        Ok(())
    }

    pub(super) async fn get_table(&self, args: &Fields, wrapped: bool) -> Outcome {
        let tr = self.args_table(args).await?;
        let mut w = Writer::default();
        w.field(ttype::STRUCT, 0);
        if wrapped {
            w.field(ttype::STRUCT, 1);
        }
        self.write_table(&mut w, &tr).await?;
        if wrapped {
            w.stop();
        }
        Ok(w)
    }

    pub(super) async fn table_objects(&self, args: &Fields, wrapped: bool) -> Outcome {
        let db = args.string(1).unwrap_or_default();
        let names = args.strings(2).unwrap_or_default();
        let mut found = Vec::new();
        for n in &names {
            match self.table_ref(&db, n).await {
                Ok(tr) => found.push(tr),
                Err(f) if f.prefer == NOT_FOUND => {}
                Err(f) => return Err(f),
            }
        }
        let mut w = Writer::default();
        if wrapped {
            w.field(ttype::STRUCT, 0);
            w.field(ttype::LIST, 1);
        } else {
            w.field(ttype::LIST, 0);
        }
        w.list_begin(ttype::STRUCT, found.len());
        for tr in &found {
            self.write_table(&mut w, tr).await?;
        }
        if wrapped {
            w.stop();
        }
        Ok(w)
    }

    pub(super) async fn get_fields(&self, args: &Fields, with_keys: bool) -> Outcome {
        let tr = self.args_table(args).await?;
        let mut cols = Writer::default();
        mapping::columns(&mut cols, &tr.table);
        let mut w = Writer::default();
        w.field(ttype::LIST, 0);
        if with_keys {
            // Columns then keys in one list: rebuild the header with the sum.
            let n = tr.table.schema.fields().len() + tr.table.partition_keys.len();
            let mut keys = Writer::default();
            mapping::key_columns(&mut keys, &tr.table.partition_keys);
            w.list_begin(ttype::STRUCT, n);
            w.buf.extend_from_slice(&cols.buf[5..]);
            w.buf.extend_from_slice(&keys.buf[5..]);
        } else {
            w.buf.extend_from_slice(&cols.buf);
        }
        Ok(w)
    }
}
