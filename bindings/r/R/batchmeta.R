#' batchmeta: versioned tables where a bad overwrite never costs data
#'
#' Every write of a partition lands in a fresh batch; the catalog then
#' points the partition at it, atomically, and records who did what. Roll
#' back, pin a batch for a downstream job, or read the table as it was
#' yesterday.
#'
#'     library(batchmeta)
#'     create_namespace("sales", exist_ok = TRUE)
#'     store_dataframe(df, "sales", "sold_items", partitions = list(date = as.Date("2016-10-31")))
#'     df <- load_dataframe("sales", "sold_items", partitions = "2016-10-31")
#'     rollback("sales", "sold_items", partitions = "2016-10-31")
#'
#' The functions use a default client: BATCHMETA_URL if set, else the
#' embedded catalog in .batchmeta/ of the working directory.
#' connect(url, token) picks another; every function also takes
#' `client = ` for a client of its own. See docs/r.md.
"_PACKAGE"

#' `expected_batch = NO_BATCH`: publish only if the partition was never published.
NO_BATCH <- "none"

.state <- new.env(parent = emptyenv())

# Notes on stderr, as Python prints them; options(batchmeta.quiet = TRUE) silences them.
.say <- function(text) if (!isTRUE(getOption("batchmeta.quiet"))) message(text)

.principal <- function() {
  user <- Sys.info()[["user"]]
  if (is.null(user) || !nzchar(user) || identical(user, "unknown")) user <- Sys.getenv("USER", "r")
  if (!nzchar(user)) "r" else user
}

#' Connects to a catalog and makes it the default of every function.
#'
#' `url`: "http(s)://host:port" for a `meta serve`; "sqlite:///path/catalog.db"
#' or a directory for an embedded catalog; NULL for BATCHMETA_URL, else the
#' embedded default .batchmeta/ in the working directory (its location is
#' printed). `token` (server URLs): the bearer token of a server started with
#' `--auth tokens`, default BATCHMETA_TOKEN; events then record the token's
#' name as the principal. `warehouse`: the warehouse of an embedded catalog
#' given by a database URL. `direct_data` (server URLs): TRUE reads and
#' writes the warehouse directly, FALSE sends data through the server, NULL
#' decides by trying. `default = FALSE` returns a client without making it
#' the default.
connect <- function(url = NULL, token = NULL, warehouse = NULL, direct_data = NULL,
                    default = TRUE) {
  call <- sys.call()
  if (is.null(url) && nzchar(Sys.getenv("BATCHMETA_URL"))) url <- Sys.getenv("BATCHMETA_URL")
  if (is.null(token) && nzchar(Sys.getenv("BATCHMETA_TOKEN"))) token <- Sys.getenv("BATCHMETA_TOKEN")
  if (is.null(warehouse) && nzchar(Sys.getenv("BATCHMETA_WAREHOUSE"))) {
    warehouse <- Sys.getenv("BATCHMETA_WAREHOUSE")
  }
  ptr <- .native("wrap__bm_connect", url, warehouse, token, .principal(), direct_data, call = call)
  if (is.null(url)) {
    .say(sprintf(
      "batchmeta: using the embedded catalog in %s (set BATCHMETA_URL or call batchmeta::connect(url) for another)",
      file.path(normalizePath(".", mustWork = FALSE), ".batchmeta")))
  }
  client <- structure(list(ptr = ptr, url = url), class = "batchmeta_client")
  if (isTRUE(default)) .state$client <- client
  invisible(client)
}

#' @export
print.batchmeta_client <- function(x, ...) {
  cat(sprintf("<batchmeta client: %s>\n", if (is.null(x$url)) "embedded .batchmeta/" else x$url))
  invisible(x)
}

.client <- function(client) {
  if (!is.null(client)) {
    if (!inherits(client, "batchmeta_client")) {
      stop(.invalid("client must come from batchmeta::connect()", code = "invalid_input",
                    call = sys.call(-1L)))
    }
    return(client$ptr)
  }
  if (is.null(.state$client)) connect()
  .state$client$ptr
}

.utf8_frame <- function(df) {
  for (i in seq_along(df)) {
    col <- df[[i]]
    if (is.character(col)) {
      df[[i]] <- enc2utf8(col)
    } else if (is.factor(col)) {
      levels(df[[i]]) <- enc2utf8(levels(col))
    }
  }
  df
}

#' Writes `df` as a new batch of exactly one partition and publishes it.
#'
#' - `partitions = "2016-10-31"` (or `list(date = as.Date("2016-10-31"))`):
#'   the partition. Columns named like partition keys must hold that value
#'   in every row.
#' - `partition_by = "date"`: split `df` by these columns and publish every
#'   partition in one all-or-nothing commit.
#' - The first write creates the table from `df`'s columns (the namespace
#'   must exist: create_namespace()); its partition keys come from
#'   `partition_by` or a named partition, whose value types give the key
#'   types (a Date makes a date key, a whole number an int key).
#' - `expected_batch`: publish only if the partition's current batch is this
#'   one (NO_BATCH: only if it has none); otherwise a `batchmeta_conflict`
#'   condition whose `current_batch` names the winner.
#' - `schema_mode = "merge"` adds new columns; the default refuses any
#'   difference with a `batchmeta_schema_mismatch` condition.
#' - `metadata`: a named character vector recorded with the batch.
#'
#' Returns a `batchmeta_store_result`: `batch_id`, `batches` (a data frame),
#' `commit_id`, `event_ids`, `created_table`. Ctrl-C stops the store; a
#' batch whose publish had not begun is never visible.
store_dataframe <- function(df, namespace, table, partitions = NULL, partition_by = NULL,
                            expected_batch = NULL, schema_mode = NULL, message = NULL,
                            metadata = NULL, client = NULL) {
  call <- sys.call()
  if (!is.data.frame(df)) {
    stop(.invalid(sprintf("cannot store a %s: pass a data.frame or a tibble", class(df)[1L]),
                  code = "invalid_data", call = call))
  }
  spec <- .one_spec(partitions, "store_dataframe", call)
  ptr <- .client(client)
  raw <- .native("wrap__bm_store", ptr, .utf8_frame(df), namespace, table, spec,
                 .str(partition_by), expected_batch, schema_mode, message, metadata,
                 call = call)
  batches <- .columns_frame(raw$batches, c("created_at", "committed_at"))
  result <- structure(list(
    table = raw$table,
    batch_id = batches$batch_id[1L],
    batches = batches,
    commit_id = raw$commit_id,
    event_ids = raw$event_ids,
    created_table = raw$created_table
  ), class = "batchmeta_store_result")
  if (isTRUE(result$created_table)) .say(sprintf("batchmeta: created table %s", result$table))
  result
}

#' @export
print.batchmeta_store_result <- function(x, ...) {
  cat(sprintf("<batchmeta store: %s, %d partition(s), %s rows>\n", x$table, nrow(x$batches),
              format(sum(x$batches$rows), big.mark = ",")))
  for (i in seq_len(nrow(x$batches))) {
    p <- x$batches$partition[i]
    cat(sprintf("  %s -> batch %s\n", if (nzchar(p)) p else "(unpartitioned)", x$batches$batch_id[i]))
  }
  invisible(x)
}

#' Reads partitions (NULL = all) with the partition key columns restored.
#'
#' - one version at most: `batch_id =`, `as_of =` (a POSIXct, a Date, or a
#'   string such as "2016-11-01T00:00:00Z" or "2d") or `pin =` (a pin name);
#' - `columns = c(...)` reads only those columns;
#' - `output = "tibble"` for a tibble (needs the tibble package);
#' - `int64`: 64-bit integer columns as bit64's "integer64" (exact; the
#'   default when bit64 is installed) or "double" (exact up to 2^53).
load_dataframe <- function(namespace, table, partitions = NULL, batch_id = NULL, as_of = NULL,
                           pin = NULL, columns = NULL, output = c("data.frame", "tibble"),
                           int64 = getOption("batchmeta.int64", "integer64"), client = NULL) {
  call <- sys.call()
  output <- match.arg(output)
  if (identical(int64, "integer64") && !requireNamespace("bit64", quietly = TRUE)) {
    warning("bit64 is not installed: 64-bit integers come back as double (install r-cran-bit64 for integer64)",
            call. = FALSE)
    int64 <- "double"
  }
  ptr <- .client(client)
  res <- .native("wrap__bm_load", ptr, namespace, table, .specs(partitions, call),
                 batch_id, .time(as_of, "as_of", call), pin, .str(columns), int64, call = call)
  df <- .frame(res)
  if (output == "tibble") {
    if (!requireNamespace("tibble", quietly = TRUE)) {
      stop(.invalid("output = \"tibble\" needs the tibble package (r-cran-tibble); or use output = \"data.frame\"",
                    code = "invalid_output", call = call))
    }
    df <- tibble::as_tibble(df)
  }
  df
}

#' The full URIs of the data files of the resolved partitions.
files <- function(namespace, table, partitions = NULL, batch_id = NULL, as_of = NULL, pin = NULL,
                  client = NULL) {
  call <- sys.call()
  .native("wrap__bm_files", .client(client), namespace, table, .specs(partitions, call), batch_id,
          .time(as_of, "as_of", call), pin, call = call)
}

#' Points each partition back at its previous batch (or at batch `to`).
#' Deletes nothing; each rollback is an audit event (one row of the
#' returned data frame per partition).
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

#' The pointer moves of one partition, newest first (the newest 10,000
#' unless `limit` says otherwise).
history <- function(namespace, table, partition = NULL, limit = NULL, client = NULL) {
  call <- sys.call()
  .events_frame(.native("wrap__bm_history", .client(client), namespace, table,
                        .one_spec(partition, "history", call), limit, call = call))
}

#' Every batch of one partition (staged and committed), newest first.
batches <- function(namespace, table, partition = NULL, client = NULL) {
  call <- sys.call()
  .columns_frame(.native("wrap__bm_batches", .client(client), namespace, table,
                         .one_spec(partition, "batches", call), call = call),
                 c("created_at", "committed_at"))
}

#' Published partitions and their current batches, in key order.
partitions <- function(namespace, table, prefix = NULL, limit = NULL, client = NULL) {
  .columns_frame(.native("wrap__bm_partitions", .client(client), namespace, table, prefix, limit,
                         call = sys.call()), "updated_at")
}

#' The tables of a namespace: a data frame of name, partition keys and location.
tables <- function(namespace, client = NULL) {
  ts <- .native("wrap__bm_tables", .client(client), namespace, call = sys.call())
  data.frame(
    namespace = vapply(ts, function(t) t$namespace, ""),
    name = vapply(ts, function(t) t$name, ""),
    partition_keys = vapply(ts, function(t) paste(vapply(t$partition_keys, function(k) k$name, ""),
                                                  collapse = ","), ""),
    schema_version = vapply(ts, function(t) t$schema_version, 0),
    location = vapply(ts, function(t) t$location, ""),
    stringsAsFactors = FALSE
  )
}

#' One table: its columns (a data frame of name, type, nullable), partition
#' keys, schema version and location.
table_info <- function(namespace, table, client = NULL) {
  t <- .native("wrap__bm_table", .client(client), namespace, table, call = sys.call())
  t$columns <- data.frame(
    name = vapply(t$columns, function(c) c$name, ""),
    type = vapply(t$columns, function(c) c$type, ""),
    nullable = vapply(t$columns, function(c) c$nullable, TRUE),
    stringsAsFactors = FALSE
  )
  t$partition_keys <- data.frame(
    name = vapply(t$partition_keys, function(k) k$name, ""),
    type = vapply(t$partition_keys, function(k) k$type, ""),
    stringsAsFactors = FALSE
  )
  t
}

#' Creates a namespace and returns its name. Stores never create one (a
#' typo such as "slaes" must fail, not start a new namespace);
#' `exist_ok = TRUE` makes this a no-op when it exists.
create_namespace <- function(namespace, description = NULL, owner = NULL, exist_ok = FALSE,
                             client = NULL) {
  invisible(.native("wrap__bm_create_namespace", .client(client), namespace, description, owner,
                    exist_ok, call = sys.call()))
}

#' The names of the namespaces.
namespaces <- function(client = NULL) {
  .native("wrap__bm_namespaces", .client(client), call = sys.call())
}

#' Pins a partition's batch (`batch_id`, default its current one), or the
#' whole table as of a time, for a consumer named `name`. Pinned data is
#' never collected; read it with load_dataframe(pin = name).
pin <- function(namespace, table, name, partition = NULL, batch_id = NULL, as_of = NULL,
                owner = NULL, reason = NULL, expires_at = NULL, client = NULL) {
  call <- sys.call()
  .columns_frame(.native("wrap__bm_pin", .client(client), namespace, table, name,
                         .one_spec(partition, "pin", call), batch_id, .time(as_of, "as_of", call),
                         owner, reason, .time(expires_at, "expires_at", call), call = call),
                 c("as_of", "created_at", "expires_at"))
}

#' Deletes a pin.
unpin <- function(namespace, table, name, client = NULL) {
  invisible(.native("wrap__bm_unpin", .client(client), namespace, table, name, call = sys.call()))
}

#' The pins of a table (pins("sales", "sold_items")), of a namespace
#' (pins("sales")) or of every table (pins()).
pins <- function(namespace = NULL, table = NULL, client = NULL) {
  .columns_frame(.native("wrap__bm_pins", .client(client), namespace, table, call = sys.call()),
                 c("as_of", "created_at", "expires_at"))
}

#' The audit trail as a data frame, newest first (with `after = <event id>`:
#' the change feed, oldest first); the first 10,000 matching events unless
#' `limit` says otherwise.
events <- function(namespace = NULL, table = NULL, partition = NULL, action = NULL,
                   principal = NULL, since = NULL, until = NULL, after = NULL, limit = NULL,
                   client = NULL) {
  call <- sys.call()
  .events_frame(.native("wrap__bm_events", .client(client), namespace, table,
                        .one_spec(partition, "events", call), action, principal,
                        .time(since, "since", call), .time(until, "until", call), after, limit,
                        call = call))
}

#' The seed's writer: sf_writer(data = result, namespace = dest_db,
#' resource = dest_table, partitions = c(as.integer(opt$ETL_DATE))) is
#' store_dataframe(result, dest_db, dest_table, partitions = ...); other
#' arguments pass through.
sf_writer <- function(data, namespace, resource, partitions = NULL, ...) {
  store_dataframe(data, namespace, resource, partitions = partitions, ...)
}

#' The seed's reader: sf_reader(namespace = src_db, resource = src_table,
#' partitions = ...) is load_dataframe(src_db, src_table, partitions = ...).
sf_reader <- function(namespace, resource, partitions = NULL, ...) {
  load_dataframe(namespace, resource, partitions = partitions, ...)
}
