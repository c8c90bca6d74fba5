# Versions: rollback, a partition's history, pins, and the audit trail.

#' Roll partitions back
#'
#' Points each partition back at its previous batch (or at batch `to`, also
#' forward). Deletes nothing; each rollback is an audit event.
#'
#' @inheritParams load_dataframe
#' @param partitions one partition or several (see [load_dataframe()]), each
#'   rolled back on its own, in order; `NULL` for a table without partition
#'   keys.
#' @param to the batch to point at (default: the current batch's parent).
#' @param expected_batch roll back only if the partition's current batch is
#'   this one; otherwise a `batchmeta_conflict` condition.
#' @param message a note recorded with the event.
#' @return A data frame of the rollback events, one row per partition (the
#'   columns of [events()]).
#' @examples
#' \dontrun{
#' rollback("sales", "sold_items", partitions = "2016-10-31")
#' }
#' @export
rollback <- function(namespace, table, partitions = NULL, to = NULL, expected_batch = NULL,
                     message = NULL, client = NULL) {
  call <- sys.call()
  ptr <- .client(client)
  specs <- .specs(partitions, call)
  if (is.null(specs)) specs <- list(NULL)
  rows <- lapply(specs, function(s) {
    .native("wrap__bm_rollback", ptr, namespace, table, s, to, expected_batch, message, call = call)
  })
  cols <- Reduce(function(a, b) Map(c, a, b), rows)
  .events_frame(cols)
}

#' The history of a partition
#'
#' The pointer moves of one partition (publishes and rollbacks), newest
#' first. Masks `utils::history` once the package is attached;
#' `batchmeta::history()` and `utils::history()` name each.
#'
#' @inheritParams batches
#' @param limit at most this many events (default: the newest 10,000).
#' @return A data frame of events (the columns of [events()]).
#' @export
history <- function(namespace, table, partition = NULL, limit = NULL, client = NULL) {
  call <- sys.call()
  .events_frame(.native("wrap__bm_history", .client(client), namespace, table,
                        .one_spec(partition, "history", call), limit, call = call))
}

#' Pin a batch for a consumer
#'
#' Pins a partition's batch (`batch_id`, default its current one), or the
#' whole table as of a time, for a consumer named `name`. Pinned data is
#' never collected; read it with `load_dataframe(pin = name)`.
#'
#' @inheritParams batches
#' @param name the pin's name (the consumer).
#' @param partition the partition whose batch is pinned; `NULL` with `as_of`
#'   pins the whole table as of that time.
#' @param batch_id the batch to pin (default: the partition's current batch).
#' @param as_of pin the whole table as of this time (a POSIXct, a Date or a
#'   string such as `"2016-11-01"` or `"1h"`), instead of a partition.
#' @param owner,reason recorded with the pin.
#' @param expires_at when the pin lapses (a time, or an age such as `"30d"`
#'   from now); `NULL` for never.
#' @return A one-row data frame: the pin.
#' @export
pin <- function(namespace, table, name, partition = NULL, batch_id = NULL, as_of = NULL,
                owner = NULL, reason = NULL, expires_at = NULL, client = NULL) {
  call <- sys.call()
  .columns_frame(.native("wrap__bm_pin", .client(client), namespace, table, name,
                         .one_spec(partition, "pin", call), batch_id, .time(as_of, "as_of", call),
                         owner, reason, .time(expires_at, "expires_at", call), call = call),
                 c("as_of", "created_at", "expires_at"))
}

#' Delete a pin
#'
#' @inheritParams pin
#' @return `NULL`, invisibly.
#' @export
unpin <- function(namespace, table, name, client = NULL) {
  invisible(.native("wrap__bm_unpin", .client(client), namespace, table, name, call = sys.call()))
}

#' The pins
#'
#' The pins of a table (`pins("sales", "sold_items")`), of a namespace
#' (`pins("sales")`) or of every table (`pins()`).
#'
#' @param namespace,table the namespace and table, or `NULL`.
#' @inheritParams store_dataframe
#' @return A data frame, one row per pin.
#' @export
pins <- function(namespace = NULL, table = NULL, client = NULL) {
  .columns_frame(.native("wrap__bm_pins", .client(client), namespace, table, call = sys.call()),
                 c("as_of", "created_at", "expires_at"))
}

#' The audit trail
#'
#' Every change to the catalog, newest first (with `after = <event id>`: the
#' change feed, oldest first); the first 10,000 matching events unless
#' `limit` says otherwise.
#'
#' @param namespace,table,partition narrow to a namespace, a table, a
#'   partition (`NULL`: everything).
#' @param action only events of this action (`"publish"`, `"rollback"`, ...).
#' @param principal only events of this principal.
#' @param since,until only events in this time range (POSIXct, Date or
#'   strings such as `"2016-11-01"` or `"1h"`).
#' @param after only events after this event id, oldest first.
#' @param limit at most this many events.
#' @inheritParams store_dataframe
#' @return A data frame: `id`, `at` (POSIXct, UTC), `principal`, `action`,
#'   `namespace`, `table`, `partition`, `from_batch`, `to_batch`,
#'   `commit_id`, `message`, `rows`, `bytes`, `files`.
#' @export
events <- function(namespace = NULL, table = NULL, partition = NULL, action = NULL,
                   principal = NULL, since = NULL, until = NULL, after = NULL, limit = NULL,
                   client = NULL) {
  call <- sys.call()
  .events_frame(.native("wrap__bm_events", .client(client), namespace, table,
                        .one_spec(partition, "events", call), action, principal,
                        .time(since, "since", call), .time(until, "until", call), after, limit,
                        call = call))
}
