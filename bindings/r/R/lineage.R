#' Lineage of a partition's batch
#'
#' The batches a partition's batch (`batch_id`, default its current one) was
#' built from (`direction = "up"`), or that were built from it (`"down"`),
#' transitively up to `depth` steps, nearest first. A store records as its
#' inputs the batches its client loaded since its last store (see
#' [connect()]'s `run_id`).
#'
#' @inheritParams batches
#' @param batch_id start from this batch (default: the current one).
#' @param direction `"up"` or `"down"`.
#' @param depth at most this many steps (default: all).
#' @return A data frame: `table`, `partition`, `batch_id`, `depth`,
#'   `current` (its partition's current batch?), `pinned_by`.
#' @examples
#' \dontrun{
#' lineage("sales", "daily_summary", "2016-10-31")
#' }
#' @export
lineage <- function(namespace, table, partition = NULL, batch_id = NULL, direction = "up",
                    depth = NULL, client = NULL) {
  call <- sys.call()
  .columns_frame(.native("wrap__bm_lineage", .client(client), namespace, table,
                         .one_spec(partition, "lineage", call), batch_id, direction, depth,
                         call = call))
}

#' What a rollback would affect
#'
#' The current batches downstream built from the batch that rolling the
#' partition back would retire; moves nothing.
#'
#' @inheritParams lineage
#' @return A data frame like [lineage()]'s.
#' @examples
#' \dontrun{
#' rollback_impact("sales", "sold_items", "2016-10-31")
#' }
#' @export
rollback_impact <- function(namespace, table, partition = NULL, client = NULL) {
  call <- sys.call()
  .columns_frame(.native("wrap__bm_rollback_impact", .client(client), namespace, table,
                         .one_spec(partition, "rollback_impact", call), call = call))
}

#' Stale batches
#'
#' Current batches (of one table, a namespace, or all) built from an input
#' that is no longer current: one row per stale input.
#'
#' @param namespace,table the scope (`NULL`: everything).
#' @param client a client from [connect()]; `NULL` for the default client.
#' @return A data frame: `table`, `partition`, `batch_id`, `input_table`,
#'   `input_partition`, `input_batch_id`.
#' @examples
#' \dontrun{
#' stale("sales")
#' }
#' @export
stale <- function(namespace = NULL, table = NULL, client = NULL) {
  call <- sys.call()
  .columns_frame(.native("wrap__bm_stale", .client(client), namespace, table, call = call))
}
