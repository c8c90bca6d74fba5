//! Namespaces and tables.

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use super::SqliteCatalog;
use super::rows::{self, NewEvent, TABLE_COLUMNS, TableRow, from_json, micros, time, to_json};
use crate::error::{Error, Object, Result};
use crate::model::{
    Action, Context, MetadataUpdate, Namespace, NamespaceName, NewNamespace, NewTable, Properties,
    Table, TableIdent,
};
use crate::storage;

fn namespace_from_row(row: &SqliteRow) -> Result<Namespace> {
    Ok(Namespace {
        name: NamespaceName::new(row.try_get::<String, _>("name")?)?,
        description: row.try_get("description")?,
        owner: row.try_get("owner")?,
        properties: from_json(&row.try_get::<String, _>("properties")?)?,
        created_at: time(row.try_get("created_at")?),
        updated_at: time(row.try_get("updated_at")?),
    })
}

async fn namespace_row(conn: &mut SqliteConnection, name: &NamespaceName) -> Result<Namespace> {
    rows::namespace_id(conn, name).await?;
    let row = sqlx::query("SELECT * FROM namespaces WHERE name = ?")
        .bind(name.as_str())
        .fetch_one(&mut *conn)
        .await?;
    namespace_from_row(&row)
}

/// Applies an update to description, owner and properties.
fn apply(
    update: &MetadataUpdate,
    description: &mut Option<String>,
    owner: &mut Option<String>,
    properties: &mut Properties,
) {
    if let Some(d) = &update.description {
        *description = Some(d.clone());
    }
    if let Some(o) = &update.owner {
        *owner = Some(o.clone());
    }
    for k in &update.remove_properties {
        properties.remove(k);
    }
    properties.extend(update.set_properties.clone());
}

impl SqliteCatalog {
    pub(super) async fn create_namespace_impl(
        &self,
        ctx: &Context,
        ns: &NewNamespace,
    ) -> Result<Namespace> {
        let mut w = self.write().await?;
        let now = micros(self.now());
        let inserted = sqlx::query(
            "INSERT INTO namespaces (name, description, owner, properties, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
        )
        .bind(ns.name.as_str())
        .bind(&ns.description)
        .bind(&ns.owner)
        .bind(to_json(&ns.properties)?)
        .bind(now)
        .bind(now)
        .execute(&mut *w.tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(Error::AlreadyExists {
                object: Object::Namespace,
                name: ns.name.to_string(),
            });
        }
        let mut e = NewEvent::new(ctx, Action::CreateNamespace);
        e.namespace = Some(ns.name.as_str());
        rows::insert_event(&mut w.tx, self.now(), e).await?;
        let out = namespace_row(&mut w.tx, &ns.name).await?;
        w.tx.commit().await?;
        Ok(out)
    }

    pub(super) async fn get_namespace_impl(&self, name: &NamespaceName) -> Result<Namespace> {
        let mut tx = self.read().await?;
        namespace_row(&mut tx, name).await
    }

    pub(super) async fn list_namespaces_impl(&self) -> Result<Vec<Namespace>> {
        let mut tx = self.read().await?;
        let rows = sqlx::query("SELECT * FROM namespaces ORDER BY name")
            .fetch_all(&mut *tx)
            .await?;
        rows.iter().map(namespace_from_row).collect()
    }

    pub(super) async fn update_namespace_impl(
        &self,
        ctx: &Context,
        name: &NamespaceName,
        update: &MetadataUpdate,
    ) -> Result<Namespace> {
        let mut w = self.write().await?;
        let mut ns = namespace_row(&mut w.tx, name).await?;
        apply(
            update,
            &mut ns.description,
            &mut ns.owner,
            &mut ns.properties,
        );
        sqlx::query(
            "UPDATE namespaces SET description = ?, owner = ?, properties = ?, updated_at = ? WHERE name = ?",
        )
        .bind(&ns.description)
        .bind(&ns.owner)
        .bind(to_json(&ns.properties)?)
        .bind(micros(self.now()))
        .bind(name.as_str())
        .execute(&mut *w.tx)
        .await?;
        let mut e = NewEvent::new(ctx, Action::UpdateNamespace);
        e.namespace = Some(name.as_str());
        e.details = Some(serde_json::to_value(update).unwrap_or_default());
        rows::insert_event(&mut w.tx, self.now(), e).await?;
        let out = namespace_row(&mut w.tx, name).await?;
        w.tx.commit().await?;
        Ok(out)
    }

    pub(super) async fn create_table_impl(&self, ctx: &Context, t: &NewTable) -> Result<Table> {
        let mut w = self.write().await?;
        let ns_id = rows::namespace_id(&mut w.tx, &t.ident.namespace).await?;
        let exists: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM tables WHERE namespace_id = ? AND name = ? AND dropped_at IS NULL",
        )
        .bind(ns_id)
        .bind(t.ident.name.as_str())
        .fetch_optional(&mut *w.tx)
        .await?;
        if exists.is_some() {
            return Err(Error::AlreadyExists {
                object: Object::Table,
                name: t.ident.to_string(),
            });
        }
        let now = micros(self.now());
        sqlx::query(
            "INSERT INTO tables (namespace_id, name, location, schema, schema_version, partition_keys, \
             description, owner, properties, created_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)",
        )
        .bind(ns_id)
        .bind(t.ident.name.as_str())
        .bind(storage::table_location(&t.ident))
        .bind(to_json(&t.schema)?)
        .bind(to_json(&t.partition_keys)?)
        .bind(&t.description)
        .bind(&t.owner)
        .bind(to_json(&t.properties)?)
        .bind(now)
        .bind(now)
        .execute(&mut *w.tx)
        .await?;
        let row = rows::live_table(&mut w.tx, &t.ident).await?;
        let mut e = NewEvent::new(ctx, Action::CreateTable).on_table(&row);
        e.schema_fingerprint_details(&row);
        rows::insert_event(&mut w.tx, self.now(), e).await?;
        w.tx.commit().await?;
        Ok(row.table)
    }

    pub(super) async fn list_tables_impl(&self, namespace: &NamespaceName) -> Result<Vec<Table>> {
        let mut tx = self.read().await?;
        let ns_id = rows::namespace_id(&mut tx, namespace).await?;
        let sql = format!(
            "SELECT {TABLE_COLUMNS} FROM tables t JOIN namespaces n ON n.id = t.namespace_id \
             WHERE t.namespace_id = ? AND t.dropped_at IS NULL ORDER BY t.name"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(ns_id)
            .fetch_all(&mut *tx)
            .await?;
        rows.iter()
            .map(|r| Ok(rows::table_from_row(r)?.table))
            .collect()
    }

    pub(super) async fn update_table_impl(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        update: &MetadataUpdate,
    ) -> Result<Table> {
        let mut w = self.write().await?;
        let mut row = rows::live_table(&mut w.tx, ident).await?;
        let t = &mut row.table;
        apply(update, &mut t.description, &mut t.owner, &mut t.properties);
        sqlx::query("UPDATE tables SET description = ?, owner = ?, properties = ?, updated_at = ? WHERE id = ?")
            .bind(&t.description)
            .bind(&t.owner)
            .bind(to_json(&t.properties)?)
            .bind(micros(self.now()))
            .bind(row.id)
            .execute(&mut *w.tx)
            .await?;
        let mut e = NewEvent::new(ctx, Action::UpdateTable).on_table(&row);
        e.details = Some(serde_json::to_value(update).unwrap_or_default());
        rows::insert_event(&mut w.tx, self.now(), e).await?;
        let out = rows::live_table(&mut w.tx, ident).await?;
        w.tx.commit().await?;
        Ok(out.table)
    }

    pub(super) async fn drop_table_impl(&self, ctx: &Context, ident: &TableIdent) -> Result<()> {
        let mut w = self.write().await?;
        let row = rows::live_table(&mut w.tx, ident).await?;
        sqlx::query("UPDATE tables SET dropped_at = ? WHERE id = ?")
            .bind(micros(self.now()))
            .bind(row.id)
            .execute(&mut *w.tx)
            .await?;
        let e = NewEvent::new(ctx, Action::DropTable).on_table(&row);
        rows::insert_event(&mut w.tx, self.now(), e).await?;
        w.tx.commit().await?;
        Ok(())
    }
}

impl NewEvent<'_> {
    /// Records the table's schema fingerprint and partition keys as details.
    fn schema_fingerprint_details(&mut self, row: &TableRow) {
        self.details = Some(serde_json::json!({
            "schema_fingerprint": crate::model::fingerprint(&row.table.schema),
            "schema_version": row.table.schema_version,
            "partition_keys": row.table.partition_keys,
        }));
    }
}
