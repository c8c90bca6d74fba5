//! Retention over HTTP: the server runs `gc` where the warehouse is and
//! marks the batches in its own catalog.

use super::RemoteCatalog;
use crate::api::GcBody;
use crate::error::Result;
use crate::model::Context;
use crate::{GcReport, GcRequest};

impl RemoteCatalog {
    /// `POST /v1/gc`. A dry run changes nothing and is sent again on a
    /// dropped connection; an apply is not (a rerun finishes it).
    pub async fn gc(&self, ctx: &Context, req: &GcRequest) -> Result<GcReport> {
        let body = GcBody::from_request(req);
        if req.apply {
            self.post(ctx, "/v1/gc", &body).await
        } else {
            self.post_safe(ctx, "/v1/gc", &body).await
        }
    }
}
