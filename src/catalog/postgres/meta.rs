//! Namespaces and tables.

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use super::PostgresCatalog;
use super::rows::{self, NewEvent, TABLE_COLUMNS, TableLock, TableRow, json_col, to_json};
use crate::error::{Error, Object, Result};
use crate::model::{
    Action, Context, MetadataUpdate, Namespace, NamespaceName, NewNamespace, NewTable, Properties,
    Table, TableIdent,
};
use crate::storage;

fn namespace_from_row(row: &PgRow) -> Result<Namespace> {
    Ok(Namespace {
        name: NamespaceName::new(row.try_get::<String, _>("name")?)?,
        description: row.try_get("description")?,
        owner: row.try_get("owner")?,
        properties: json_col(row, "properties")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// A namespace; with `lock`, locked against concurrent updates.
async fn namespace_row(
    conn: &mut PgConnection,
    name: &NamespaceName,
    lock: bool,
) -> Result<Namespace> {
    rows::namespace_id(conn, name).await?;
    let sql = if lock {
        "SELECT * FROM namespaces WHERE name = $1 FOR NO KEY UPDATE"
    } else {
        "SELECT * FROM namespaces WHERE name = $1"
    };
    let row = sqlx::query(sql)
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

impl PostgresCatalog {
    pub(super) async fn create_namespace_impl(
        &self,
        ctx: &Context,
        ns: &NewNamespace,
    ) -> Result<Namespace> {
        let mut tx = self.write().await?;
        let now = self.now();
        let inserted = sqlx::query(
            "INSERT INTO namespaces (name, description, owner, properties, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING",
        )
        .bind(ns.name.as_str())
        .bind(&ns.description)
        .bind(&ns.owner)
        .bind(to_json(&ns.properties))
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(Error::AlreadyExists {
                object: Object::Namespace,
                name: ns.name.to_string(),
            });
        }
        let mut e = NewEvent::new(ctx, Action::CreateNamespace);
        e.namespace = Some(ns.name.as_str());
        rows::insert_event(&mut tx, self.now(), e).await?;
        let out = namespace_row(&mut tx, &ns.name, false).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub(super) async fn get_namespace_impl(&self, name: &NamespaceName) -> Result<Namespace> {
        let mut tx = self.read().await?;
        namespace_row(&mut tx, name, false).await
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
        let mut tx = self.write().await?;
        let mut ns = namespace_row(&mut tx, name, true).await?;
        apply(
            update,
            &mut ns.description,
            &mut ns.owner,
            &mut ns.properties,
        );
        sqlx::query(
            "UPDATE namespaces SET description = $1, owner = $2, properties = $3, updated_at = $4 \
             WHERE name = $5",
        )
        .bind(&ns.description)
        .bind(&ns.owner)
        .bind(to_json(&ns.properties))
        .bind(self.now())
        .bind(name.as_str())
        .execute(&mut *tx)
        .await?;
        let mut e = NewEvent::new(ctx, Action::UpdateNamespace);
        e.namespace = Some(name.as_str());
        e.details = Some(serde_json::to_value(update).unwrap_or_default());
        rows::insert_event(&mut tx, self.now(), e).await?;
        let out = namespace_row(&mut tx, name, false).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub(super) async fn create_table_impl(&self, ctx: &Context, t: &NewTable) -> Result<Table> {
        let mut tx = self.write().await?;
        let ns_id = rows::namespace_id(&mut tx, &t.ident.namespace).await?;
        let now = self.now();
        // The partial unique index decides a race between two creators.
        let inserted = sqlx::query(
            "INSERT INTO tables (namespace_id, name, location, schema, schema_version, partition_keys, \
             description, owner, properties, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (namespace_id, name) WHERE dropped_at IS NULL DO NOTHING",
        )
        .bind(ns_id)
        .bind(t.ident.name.as_str())
        .bind(storage::table_location(&t.ident))
        .bind(to_json(&t.schema))
        .bind(to_json(&t.partition_keys))
        .bind(&t.description)
        .bind(&t.owner)
        .bind(to_json(&t.properties))
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(Error::AlreadyExists {
                object: Object::Table,
                name: t.ident.to_string(),
            });
        }
        let row = rows::live_table(&mut tx, &t.ident, TableLock::None).await?;
        let mut e = NewEvent::new(ctx, Action::CreateTable).on_table(&row);
        e.schema_fingerprint_details(&row);
        rows::insert_event(&mut tx, self.now(), e).await?;
        tx.commit().await?;
        Ok(row.table)
    }

    pub(super) async fn get_table_impl(&self, ident: &TableIdent) -> Result<Table> {
        let mut tx = self.read().await?;
        Ok(rows::live_table(&mut tx, ident, TableLock::None)
            .await?
            .table)
    }

    pub(super) async fn list_tables_impl(&self, namespace: &NamespaceName) -> Result<Vec<Table>> {
        let mut tx = self.read().await?;
        let ns_id = rows::namespace_id(&mut tx, namespace).await?;
        let sql = format!(
            "SELECT {TABLE_COLUMNS} FROM tables t JOIN namespaces n ON n.id = t.namespace_id \
             WHERE t.namespace_id = $1 AND t.dropped_at IS NULL ORDER BY t.name"
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
        let mut tx = self.write().await?;
        let mut row = rows::live_table(&mut tx, ident, TableLock::Update).await?;
        let t = &mut row.table;
        apply(update, &mut t.description, &mut t.owner, &mut t.properties);
        sqlx::query(
            "UPDATE tables SET description = $1, owner = $2, properties = $3, updated_at = $4 \
             WHERE id = $5",
        )
        .bind(&t.description)
        .bind(&t.owner)
        .bind(to_json(&t.properties))
        .bind(self.now())
        .bind(row.id)
        .execute(&mut *tx)
        .await?;
        let mut e = NewEvent::new(ctx, Action::UpdateTable).on_table(&row);
        e.details = Some(serde_json::to_value(update).unwrap_or_default());
        rows::insert_event(&mut tx, self.now(), e).await?;
        let out = rows::live_table(&mut tx, ident, TableLock::None).await?;
        tx.commit().await?;
        Ok(out.table)
    }

    pub(super) async fn drop_table_impl(&self, ctx: &Context, ident: &TableIdent) -> Result<()> {
        let mut tx = self.write().await?;
        let row = rows::live_table(&mut tx, ident, TableLock::Update).await?;
        sqlx::query("UPDATE tables SET dropped_at = $1 WHERE id = $2")
            .bind(self.now())
            .bind(row.id)
            .execute(&mut *tx)
            .await?;
        let e = NewEvent::new(ctx, Action::DropTable).on_table(&row);
        rows::insert_event(&mut tx, self.now(), e).await?;
        tx.commit().await?;
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
