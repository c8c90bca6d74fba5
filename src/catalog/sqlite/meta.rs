//! Namespaces and tables.

use chrono::{DateTime, Utc};

use super::connect::Tx;
use super::rows::micros;
use super::statements as sql;
use crate::catalog::row::{self, NewEvent, to_json};
use crate::catalog::{errors, rules};
use crate::error::{Error, Object, Result};
use crate::model::{
    Action, Context, MetadataUpdate, Namespace, NamespaceName, NewNamespace, NewTable, Table,
    TableIdent,
};
use crate::storage;

impl Tx<'_> {
    pub(super) fn namespace(&self, name: &NamespaceName) -> Result<Namespace> {
        self.namespace_id(name)?;
        self.first(sql::NAMESPACE, [name.as_str()], |r| row::namespace(r))?
            .ok_or_else(|| Error::Internal(format!("namespace {name} vanished")))
    }

    pub(super) fn namespaces(&self) -> Result<Vec<Namespace>> {
        self.all(sql::NAMESPACES, [], |r| row::namespace(r))
    }

    pub(super) fn create_namespace(
        &self,
        now: DateTime<Utc>,
        ctx: &Context,
        ns: &NewNamespace,
    ) -> Result<Namespace> {
        let at = micros(now);
        let inserted = self.run(
            sql::INSERT_NAMESPACE,
            (
                ns.name.as_str(),
                &ns.description,
                &ns.owner,
                to_json(&ns.properties)?,
                at,
                at,
            ),
        )?;
        if inserted == 0 {
            return Err(errors::already_exists(Object::Namespace, ns.name.as_str()));
        }
        let mut e = NewEvent::new(ctx, Action::CreateNamespace);
        e.namespace = Some(ns.name.as_str());
        self.insert_event(now, e)?;
        self.namespace(&ns.name)
    }

    pub(super) fn update_namespace(
        &self,
        now: DateTime<Utc>,
        ctx: &Context,
        name: &NamespaceName,
        update: &MetadataUpdate,
    ) -> Result<Namespace> {
        let mut ns = self.namespace(name)?;
        rules::apply_update(
            update,
            &mut ns.description,
            &mut ns.owner,
            &mut ns.properties,
        );
        self.run(
            sql::UPDATE_NAMESPACE,
            (
                &ns.description,
                &ns.owner,
                to_json(&ns.properties)?,
                micros(now),
                name.as_str(),
            ),
        )?;
        let mut e = NewEvent::new(ctx, Action::UpdateNamespace);
        e.namespace = Some(name.as_str());
        e.details = Some(serde_json::to_value(update).unwrap_or_default());
        self.insert_event(now, e)?;
        self.namespace(name)
    }

    pub(super) fn create_table(
        &self,
        now: DateTime<Utc>,
        ctx: &Context,
        t: &NewTable,
    ) -> Result<Table> {
        let ns_id = self.namespace_id(&t.ident.namespace)?;
        let exists: Option<i64> = self.value(sql::LIVE_TABLE_ID, (ns_id, t.ident.name.as_str()))?;
        if exists.is_some() {
            return Err(errors::already_exists(Object::Table, t.ident.to_string()));
        }
        let at = micros(now);
        self.run(
            sql::INSERT_TABLE,
            rusqlite::params![
                ns_id,
                t.ident.name.as_str(),
                storage::table_location(&t.ident),
                to_json(&t.schema)?,
                to_json(&t.partition_keys)?,
                &t.description,
                &t.owner,
                to_json(&t.properties)?,
                at,
                at,
            ],
        )?;
        let created = self.live_table(&t.ident)?;
        let mut e = NewEvent::new(ctx, Action::CreateTable).on_table(&created);
        e.details = Some(rules::table_created_details(&created));
        self.insert_event(now, e)?;
        Ok(created.table)
    }

    pub(super) fn tables(&self, namespace: &NamespaceName) -> Result<Vec<Table>> {
        let ns_id = self.namespace_id(namespace)?;
        self.all(sql::TABLES, [ns_id], |r| Ok(row::table(r)?.table))
    }

    pub(super) fn update_table(
        &self,
        now: DateTime<Utc>,
        ctx: &Context,
        ident: &TableIdent,
        update: &MetadataUpdate,
    ) -> Result<Table> {
        let mut found = self.live_table(ident)?;
        let t = &mut found.table;
        rules::apply_update(update, &mut t.description, &mut t.owner, &mut t.properties);
        self.run(
            sql::UPDATE_TABLE,
            (
                &t.description,
                &t.owner,
                to_json(&t.properties)?,
                micros(now),
                found.id,
            ),
        )?;
        let mut e = NewEvent::new(ctx, Action::UpdateTable).on_table(&found);
        e.details = Some(serde_json::to_value(update).unwrap_or_default());
        self.insert_event(now, e)?;
        Ok(self.live_table(ident)?.table)
    }

    pub(super) fn drop_table(
        &self,
        now: DateTime<Utc>,
        ctx: &Context,
        ident: &TableIdent,
    ) -> Result<()> {
        let found = self.live_table(ident)?;
        self.run(sql::DROP_TABLE, (micros(now), found.id))?;
        let e = NewEvent::new(ctx, Action::DropTable).on_table(&found);
        self.insert_event(now, e)?;
        Ok(())
    }
}
