//! The remote client: the [`Catalog`] operations over HTTP to `meta serve`,
//! so that a [`crate::Metastore`] behaves the same embedded or remote,
//! errors included. One `reqwest` client per catalog reuses connections.

mod data;
mod gc;
mod http;
mod lineage;

use std::time::Duration;

use arrow_schema::Schema;
use async_trait::async_trait;

pub use http::RemoteCatalog;

use crate::api;
use crate::catalog::{Catalog, Tokens};
use crate::error::Result;
use crate::model::time;
use crate::model::{
    Batch, BatchId, Commit, Context, DataFile, Direction, Event, EventQuery, Expect, IssuedToken,
    LineageEdge, MetadataUpdate, Namespace, NamespaceName, NewNamespace, NewPin, NewTable,
    NewToken, Page, PartitionInfo, PartitionQuery, PartitionValues, Pin, PinName, PinTarget,
    PublishPlan, Resolved, RollbackRequest, RunReads, StageRequest, Table, TableIdent, Token,
    Version, Violation,
};

/// An empty query string.
pub(crate) const NO_QUERY: &[(&str, &str)] = &[];

pub(crate) fn table_path(t: &TableIdent) -> String {
    format!("/v1/namespaces/{}/tables/{}", t.namespace, t.name)
}

/// Partitions as the paths a request names them by.
fn paths(ps: &[PartitionValues]) -> Vec<String> {
    ps.iter().map(PartitionValues::path).collect()
}

/// The body that resolves `partitions` (all when `None`) at `version`.
pub(crate) fn resolve_body(
    partitions: Option<&[PartitionValues]>,
    version: &Version,
) -> api::ResolveBody {
    let (batch_id, as_of, pin) = version.params();
    api::ResolveBody {
        partitions: partitions.map(paths),
        batch_id,
        as_of,
        pin,
    }
}

#[async_trait]
impl Catalog for RemoteCatalog {
    async fn create_namespace(&self, ctx: &Context, ns: &NewNamespace) -> Result<Namespace> {
        let body = api::CreateNamespace {
            name: ns.name.to_string(),
            description: ns.description.clone(),
            owner: ns.owner.clone(),
            properties: ns.properties.clone(),
        };
        self.post(ctx, "/v1/namespaces", &body).await
    }

    async fn get_namespace(&self, name: &NamespaceName) -> Result<Namespace> {
        self.get(&format!("/v1/namespaces/{name}"), NO_QUERY).await
    }

    async fn list_namespaces(&self) -> Result<Vec<Namespace>> {
        self.get("/v1/namespaces", NO_QUERY).await
    }

    async fn update_namespace(
        &self,
        ctx: &Context,
        name: &NamespaceName,
        update: &MetadataUpdate,
    ) -> Result<Namespace> {
        self.send(
            ctx,
            reqwest::Method::PATCH,
            &format!("/v1/namespaces/{name}"),
            Some(update),
        )
        .await
    }

    async fn create_table(&self, ctx: &Context, t: &NewTable) -> Result<Table> {
        let body = api::CreateTable {
            name: t.ident.name.to_string(),
            columns: None,
            schema: Some(t.schema.clone()),
            partition_keys: t
                .partition_keys
                .iter()
                .map(|k| api::KeyDef {
                    name: k.name.to_string(),
                    kind: k.kind.as_str().to_owned(),
                })
                .collect(),
            description: t.description.clone(),
            owner: t.owner.clone(),
            properties: t.properties.clone(),
        };
        self.post(
            ctx,
            &format!("/v1/namespaces/{}/tables", t.ident.namespace),
            &body,
        )
        .await
    }

    async fn get_table(&self, ident: &TableIdent) -> Result<Table> {
        self.get(&table_path(ident), NO_QUERY).await
    }

    async fn list_tables(&self, namespace: &NamespaceName) -> Result<Vec<Table>> {
        self.get(&format!("/v1/namespaces/{namespace}/tables"), NO_QUERY)
            .await
    }

    async fn update_table(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        update: &MetadataUpdate,
    ) -> Result<Table> {
        self.send(
            ctx,
            reqwest::Method::PATCH,
            &table_path(ident),
            Some(update),
        )
        .await
    }

    async fn drop_table(&self, ctx: &Context, ident: &TableIdent) -> Result<()> {
        self.send_empty(ctx, reqwest::Method::DELETE, &table_path(ident))
            .await
    }

    async fn stage(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        req: &StageRequest,
    ) -> Result<Vec<Batch>> {
        let path = format!("{}/stage", table_path(ident));
        let body = api::StageBody {
            partitions: paths(&req.partitions),
            idempotency_key: req.idempotency_key.clone(),
            message: req.message.clone(),
            metadata: req.metadata.clone(),
        };
        // With a key a second stage returns the first one's batches.
        if req.idempotency_key.is_some() {
            self.post_safe(ctx, &path, &body).await
        } else {
            self.post(ctx, &path, &body).await
        }
    }

    async fn discard(&self, ident: &TableIdent, batch: &BatchId) -> Result<()> {
        self.send_empty(
            &Context::new("anonymous"),
            reqwest::Method::DELETE,
            &format!("{}/batches/{batch}", table_path(ident)),
        )
        .await
    }

    async fn record_files(
        &self,
        ident: &TableIdent,
        batch: &BatchId,
        files: &[DataFile],
        _schema: &Schema,
    ) -> Result<Batch> {
        // The server reads each file's footer itself: it trusts no client's
        // sizes, row counts or schema.
        let paths: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
        self.add_files(ident, batch, &paths).await
    }

    async fn get_batch(&self, ident: &TableIdent, batch: &BatchId) -> Result<Batch> {
        self.get(&format!("{}/batches/{batch}", table_path(ident)), NO_QUERY)
            .await
    }

    async fn publish(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        plan: &PublishPlan,
    ) -> Result<Commit> {
        let body = api::PublishBody {
            items: plan
                .items
                .iter()
                .map(|i| api::PublishItemBody {
                    partition: i.partition.path(),
                    batch_id: i.batch.to_string(),
                    expected_batch: i.expect.as_ref().map(Expect::as_param),
                })
                .collect(),
            schema_mode: Some(plan.schema_mode),
            message: plan.message.clone(),
            inputs: plan.inputs.iter().map(ToString::to_string).collect(),
        };
        // Publishing the same batches again returns the first commit (or a
        // conflict if another writer moved on meanwhile): safe to resend.
        self.post_safe(ctx, &format!("{}/publish", table_path(ident)), &body)
            .await
    }

    async fn rollback(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        partition: &PartitionValues,
        req: &RollbackRequest,
    ) -> Result<Event> {
        let body = api::RollbackBody {
            partition: partition.path(),
            to: req.to.as_ref().map(ToString::to_string),
            expected_batch: req.expect.as_ref().map(ToString::to_string),
            message: req.message.clone(),
        };
        self.post(ctx, &format!("{}/rollback", table_path(ident)), &body)
            .await
    }

    async fn resolve(
        &self,
        ident: &TableIdent,
        partitions: Option<&[PartitionValues]>,
        version: &Version,
    ) -> Result<Vec<Resolved>> {
        self.post(
            &Context::new("anonymous"),
            &format!("{}/resolve", table_path(ident)),
            &resolve_body(partitions, version),
        )
        .await
    }

    async fn list_partitions(
        &self,
        ident: &TableIdent,
        q: &PartitionQuery,
    ) -> Result<Page<PartitionInfo>> {
        self.get(
            &format!("{}/partitions", table_path(ident)),
            &api::PartitionsParams {
                prefix: q.prefix.clone(),
                from: q.from.clone(),
                to: q.to.clone(),
                cursor: q.cursor.clone(),
                limit: q.limit,
            },
        )
        .await
    }

    async fn history(
        &self,
        ident: &TableIdent,
        partition: &PartitionValues,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<Event>> {
        self.get(
            &format!("{}/history", table_path(ident)),
            &api::PartitionPageParams {
                partition: partition.path(),
                cursor: cursor.map(str::to_owned),
                limit,
            },
        )
        .await
    }

    async fn list_batches(
        &self,
        ident: &TableIdent,
        partition: &PartitionValues,
    ) -> Result<Vec<Batch>> {
        self.get(
            &format!("{}/batches", table_path(ident)),
            &api::PartitionPageParams {
                partition: partition.path(),
                ..Default::default()
            },
        )
        .await
    }

    async fn create_pin(&self, ctx: &Context, ident: &TableIdent, pin: &NewPin) -> Result<Pin> {
        let (partition, batch_id, as_of) = match &pin.target {
            PinTarget::Batch { partition, batch } => {
                (Some(partition.path()), Some(batch.to_string()), None)
            }
            PinTarget::AsOf { at } => (None, None, Some(time::format_instant(at))),
        };
        let body = api::CreatePinBody {
            name: pin.name.to_string(),
            owner: pin.owner.clone(),
            reason: pin.reason.clone(),
            partition,
            batch_id,
            as_of,
            expires_at: pin.expires_at.as_ref().map(time::format_instant),
        };
        self.post(ctx, &format!("{}/pins", table_path(ident)), &body)
            .await
    }

    async fn get_pin(&self, ident: &TableIdent, name: &PinName) -> Result<Pin> {
        self.get(&format!("{}/pins/{name}", table_path(ident)), NO_QUERY)
            .await
    }

    async fn list_pins(&self, ident: Option<&TableIdent>) -> Result<Vec<Pin>> {
        match ident {
            Some(t) => self.get(&format!("{}/pins", table_path(t)), NO_QUERY).await,
            None => self.get("/v1/pins", NO_QUERY).await,
        }
    }

    async fn delete_pin(&self, ctx: &Context, ident: &TableIdent, name: &PinName) -> Result<()> {
        self.send_empty(
            ctx,
            reqwest::Method::DELETE,
            &format!("{}/pins/{name}", table_path(ident)),
        )
        .await
    }

    async fn pins_holding(&self, ident: &TableIdent, batch: &BatchId) -> Result<Vec<Pin>> {
        self.get(
            &format!("{}/batches/{batch}/pins", table_path(ident)),
            NO_QUERY,
        )
        .await
    }

    async fn lineage_edges(
        &self,
        batches: &[BatchId],
        direction: Direction,
    ) -> Result<Vec<LineageEdge>> {
        self.lineage_edges_remote(batches, direction).await
    }
    async fn run_reads(&self, run: &str) -> Result<Option<RunReads>> {
        self.run_reads_remote(run).await
    }
    async fn save_run_reads(&self, run: &str, reads: &RunReads) -> Result<()> {
        self.save_run_reads_remote(run, reads).await
    }

    fn server(&self) -> Option<&RemoteCatalog> {
        Some(self)
    }

    async fn claim_feed(
        &self,
        _feed: &str,
        _holder: &str,
        _lease: std::time::Duration,
    ) -> Result<Option<i64>> {
        Err(crate::catalog::errors::feeds_run_on_the_server())
    }

    async fn advance_feed(
        &self,
        _feed: &str,
        _holder: &str,
        _cursor: i64,
        _lease: std::time::Duration,
    ) -> Result<bool> {
        Err(crate::catalog::errors::feeds_run_on_the_server())
    }

    async fn record_orphans(
        &self,
        _ctx: &Context,
        _ident: &TableIdent,
        _files: &[(String, u64)],
    ) -> Result<Event> {
        Err(crate::catalog::errors::gc_runs_on_the_server())
    }

    async fn unpublished_partitions(&self, _ident: &TableIdent) -> Result<Vec<PartitionValues>> {
        Err(crate::catalog::errors::gc_runs_on_the_server())
    }

    async fn mark_expiring(
        &self,
        _ctx: &Context,
        _ident: &TableIdent,
        _batch: &BatchId,
        _rules: &crate::catalog::retention::GcRules,
    ) -> Result<Batch> {
        Err(crate::catalog::errors::gc_runs_on_the_server())
    }

    async fn mark_expired(
        &self,
        _ctx: &Context,
        _ident: &TableIdent,
        _batch: &BatchId,
    ) -> Result<Event> {
        Err(crate::catalog::errors::gc_runs_on_the_server())
    }

    async fn events(&self, q: &EventQuery) -> Result<Page<Event>> {
        let (ns, table) = match &q.table {
            Some(t) => (Some(t.namespace.to_string()), Some(t.name.to_string())),
            None => (q.namespace.as_ref().map(ToString::to_string), None),
        };
        let params = api::EventsParams {
            namespace: ns,
            table,
            partition: q.partition.as_ref().map(PartitionValues::path),
            principal: q.principal.clone(),
            action: q.action.map(|a| a.as_str().to_owned()),
            since: q.since.as_ref().map(time::format_instant),
            until: q.until.as_ref().map(time::format_instant),
            after: q.after,
            order: Some(q.order),
            cursor: q.cursor.clone(),
            limit: q.limit,
        };
        self.get("/v1/events", &params).await
    }

    async fn wait_for(
        &self,
        ident: &TableIdent,
        partition: &PartitionValues,
        after: Option<&BatchId>,
        timeout: Duration,
    ) -> Result<Option<Resolved>> {
        self.long_poll(
            &format!("{}/wait", table_path(ident)),
            &api::WaitParams {
                partition: partition.path(),
                after: after.map(ToString::to_string),
                timeout_ms: Some(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX)),
            },
            timeout,
        )
        .await
    }

    async fn check_invariants(&self) -> Result<Vec<Violation>> {
        let report: crate::VerifyReport = self
            .send::<_, ()>(
                &Context::new("anonymous"),
                reqwest::Method::POST,
                "/v1/verify?scope=catalog",
                None,
            )
            .await?;
        Ok(report.violations)
    }

    fn tokens(&self) -> &dyn Tokens {
        self
    }

    async fn committed_batches(&self, after: Option<&BatchId>, limit: u32) -> Result<Vec<Batch>> {
        self.get(
            "/v1/batches",
            &api::CommittedParams {
                after: after.map(ToString::to_string),
                limit: Some(limit),
            },
        )
        .await
    }
}

/// The server mints, lists and revokes; the hashes stay there.
#[async_trait]
impl Tokens for RemoteCatalog {
    async fn list_tokens(&self, include_revoked: bool) -> Result<Vec<Token>> {
        self.get(
            "/v1/tokens",
            &[("include_revoked", include_revoked.to_string())],
        )
        .await
    }

    async fn revoke_token(&self, ctx: &Context, name: &str) -> Result<Token> {
        self.send::<Token, ()>(
            ctx,
            reqwest::Method::DELETE,
            &format!("/v1/tokens/{name}"),
            None,
        )
        .await
    }

    async fn issue_token(&self, ctx: &Context, new: &NewToken) -> Result<IssuedToken> {
        new.validate()?;
        self.post(ctx, "/v1/tokens", new).await
    }
}
