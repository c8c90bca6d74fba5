//! Namespaces and tables.

use sqlx::PgConnection;

use super::PostgresCatalog;
use super::rows::{self, TableLock, jsonb};
use super::statements as sql;
use crate::catalog::row::{self, NewEvent};
use crate::catalog::{errors, rules};
use crate::error::{Object, Result};
use crate::model::{
    Action, Context, MetadataUpdate, Namespace, NamespaceName, NewNamespace, NewTable, Table,
    TableIdent,
};
use crate::storage;

/// A namespace; with `lock`, locked against concurrent updates.
async fn namespace_row(
    conn: &mut PgConnection,
    name: &NamespaceName,
    lock: bool,
) -> Result<Namespace> {
    rows::namespace_id(conn, name).await?;
    let statement = if lock {
        sql::NAMESPACE_FOR_UPDATE
    } else {
        sql::NAMESPACE
    };
    let r = sqlx::query(statement)
        .bind(name.as_str())
        .fetch_one(&mut *conn)
        .await?;
    row::namespace(&r)
}

impl PostgresCatalog {
    pub(super) async fn create_namespace_impl(
        &self,
        ctx: &Context,
        ns: &NewNamespace,
    ) -> Result<Namespace> {
        let mut tx = self.write().await?;
        let now = self.now();
        let inserted = sqlx::query(sql::INSERT_NAMESPACE)
            .bind(ns.name.as_str())
            .bind(&ns.description)
            .bind(&ns.owner)
            .bind(jsonb(&ns.properties))
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        if inserted.rows_affected() == 0 {
            return Err(errors::already_exists(Object::Namespace, ns.name.as_str()));
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
        let rs = sqlx::query(sql::NAMESPACES).fetch_all(&mut *tx).await?;
        rs.iter().map(row::namespace).collect()
    }

    pub(super) async fn update_namespace_impl(
        &self,
        ctx: &Context,
        name: &NamespaceName,
        update: &MetadataUpdate,
    ) -> Result<Namespace> {
        let mut tx = self.write().await?;
        let mut ns = namespace_row(&mut tx, name, true).await?;
        rules::apply_update(
            update,
            &mut ns.description,
            &mut ns.owner,
            &mut ns.properties,
        );
        sqlx::query(sql::UPDATE_NAMESPACE)
            .bind(&ns.description)
            .bind(&ns.owner)
            .bind(jsonb(&ns.properties))
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
        let inserted = sqlx::query(sql::INSERT_TABLE)
            .bind(ns_id)
            .bind(t.ident.name.as_str())
            .bind(storage::table_location(&t.ident))
            .bind(jsonb(&t.schema))
            .bind(jsonb(&t.partition_keys))
            .bind(&t.description)
            .bind(&t.owner)
            .bind(jsonb(&t.properties))
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        if inserted.rows_affected() == 0 {
            return Err(errors::already_exists(Object::Table, t.ident.to_string()));
        }
        let created = rows::live_table(&mut tx, &t.ident, TableLock::None).await?;
        let mut e = NewEvent::new(ctx, Action::CreateTable).on_table(&created);
        e.details = Some(rules::table_created_details(&created));
        rows::insert_event(&mut tx, self.now(), e).await?;
        tx.commit().await?;
        Ok(created.table)
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
        let rs = sqlx::query(sql::TABLES)
            .bind(ns_id)
            .fetch_all(&mut *tx)
            .await?;
        rs.iter().map(|r| Ok(row::table(r)?.table)).collect()
    }

    pub(super) async fn update_table_impl(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        update: &MetadataUpdate,
    ) -> Result<Table> {
        let mut tx = self.write().await?;
        let mut found = rows::live_table(&mut tx, ident, TableLock::Update).await?;
        let t = &mut found.table;
        rules::apply_update(update, &mut t.description, &mut t.owner, &mut t.properties);
        sqlx::query(sql::UPDATE_TABLE)
            .bind(&t.description)
            .bind(&t.owner)
            .bind(jsonb(&t.properties))
            .bind(self.now())
            .bind(found.id)
            .execute(&mut *tx)
            .await?;
        let mut e = NewEvent::new(ctx, Action::UpdateTable).on_table(&found);
        e.details = Some(serde_json::to_value(update).unwrap_or_default());
        rows::insert_event(&mut tx, self.now(), e).await?;
        let out = rows::live_table(&mut tx, ident, TableLock::None).await?;
        tx.commit().await?;
        Ok(out.table)
    }

    pub(super) async fn drop_table_impl(&self, ctx: &Context, ident: &TableIdent) -> Result<()> {
        let mut tx = self.write().await?;
        let found = rows::live_table(&mut tx, ident, TableLock::Update).await?;
        sqlx::query(sql::DROP_TABLE)
            .bind(self.now())
            .bind(found.id)
            .execute(&mut *tx)
            .await?;
        let e = NewEvent::new(ctx, Action::DropTable).on_table(&found);
        rows::insert_event(&mut tx, self.now(), e).await?;
        tx.commit().await?;
        Ok(())
    }
}
