# Writes: storing a frame as a new batch, and the namespaces tables live in.

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

#' Store a data frame as a new batch
#'
#' Writes `df` as a new batch of exactly one partition and publishes it; the
#' partition's earlier batches stay, so [rollback()] undoes the write.
#'
#' - The first write creates the table from `df`'s columns (the namespace
#'   must exist: [create_namespace()]); its partition keys come from
#'   `partition_by` or a named partition, whose value types give the key
#'   types (a Date makes a date key, a whole number an int key).
#' - Ctrl-C stops the store; a batch whose publish had not begun is never
#'   visible.
#'
#' @param df a data.frame or a tibble.
#' @param namespace the namespace (database) name.
#' @param table the table name.
#' @param partitions the partition: a value (`"2016-10-31"`), a named list
#'   (`list(date = as.Date("2016-10-31"), region = "us")`), an unnamed list of
#'   one value per key, or a `"key=value/key=value"` path; `NULL` for a table
#'   without partition keys. Columns named like partition keys must hold that
#'   value in every row.
#' @param partition_by column names: split `df` by these columns and publish
#'   every partition in one all-or-nothing commit (instead of `partitions`).
#' @param expected_batch publish only if the partition's current batch is this
#'   one ([NO_BATCH]: only if it has none); otherwise a `batchmeta_conflict`
#'   condition whose `current_batch` names the winner.
#' @param schema_mode `"merge"` adds new columns; the default (`"strict"`)
#'   refuses any difference with a `batchmeta_schema_mismatch` condition.
#' @param message a note recorded with the batch and its event.
#' @param metadata a named character vector recorded with the batch
#'   (`library = "batchmeta-r/<version>"` is added).
#' @param inputs batch IDs the data was built from (lineage), besides the
#'   batches this client loaded since its last store.
#' @param track_reads `FALSE` records only `inputs`.
#' @param client a client from [connect()]; `NULL` for the default client.
#' @return A `batchmeta_store_result`: `table`, `batch_id`, `batches` (a data
#'   frame, one row per partition written), `commit_id`, `event_ids`,
#'   `created_table`.
#' @examples
#' \dontrun{
#' create_namespace("sales", exist_ok = TRUE)
#' df <- data.frame(item = c("apple", "pear"), price = c(1.25, 0.80))
#' r <- store_dataframe(df, "sales", "sold_items", partitions = list(date = as.Date("2016-10-31")))
#' r$batch_id
#' store_dataframe(df, "sales", "sold_items", "2016-10-31", expected_batch = r$batch_id)
#' }
#' @export
store_dataframe <- function(df, namespace, table, partitions = NULL, partition_by = NULL,
                            expected_batch = NULL, schema_mode = NULL, message = NULL,
                            metadata = NULL, inputs = NULL, track_reads = TRUE,
                            client = NULL) {
  call <- sys.call()
  if (!is.data.frame(df)) {
    stop(.invalid(sprintf("cannot store a %s: pass a data.frame or a tibble", class(df)[1L]),
                  code = "invalid_data", call = call))
  }
  spec <- .one_spec(partitions, "store_dataframe", call)
  ptr <- .client(client)
  raw <- .native("wrap__bm_store", ptr, .utf8_frame(df), namespace, table, spec,
                 .str(partition_by), expected_batch, schema_mode, message, metadata,
                 .str(inputs), track_reads, call = call)
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
#' @noRd
print.batchmeta_store_result <- function(x, ...) {
  cat(sprintf("<batchmeta store: %s, %d partition(s), %s rows>\n", x$table, nrow(x$batches),
              format(sum(x$batches$rows), big.mark = ",")))
  for (i in seq_len(nrow(x$batches))) {
    p <- x$batches$partition[i]
    cat(sprintf("  %s -> batch %s\n", if (nzchar(p)) p else "(unpartitioned)", x$batches$batch_id[i]))
  }
  invisible(x)
}

#' The seed's writer
#'
#' `sf_writer(data = result, namespace = dest_db, resource = dest_table,
#' partitions = c(as.integer(opt$ETL_DATE)))` is
#' `store_dataframe(result, dest_db, dest_table, partitions = ...)`, so an
#' in-house migration is a search-and-replace.
#'
#' @param data the frame ([store_dataframe()]'s `df`).
#' @param resource the table name.
#' @inheritParams store_dataframe
#' @param ... the other arguments of [store_dataframe()].
#' @return What [store_dataframe()] returns.
#' @export
sf_writer <- function(data, namespace, resource, partitions = NULL, ...) {
  store_dataframe(data, namespace, resource, partitions = partitions, ...)
}

#' Create a namespace
#'
#' Stores never create a namespace (a typo such as `"slaes"` must fail, not
#' start a new namespace): create it once, on purpose.
#'
#' @inheritParams store_dataframe
#' @param description,owner recorded with the namespace.
#' @param exist_ok `TRUE` makes this a no-op when the namespace exists;
#'   otherwise that is a `batchmeta_already_exists` condition.
#' @return The namespace name, invisibly.
#' @export
create_namespace <- function(namespace, description = NULL, owner = NULL, exist_ok = FALSE,
                             client = NULL) {
  invisible(.native("wrap__bm_create_namespace", .client(client), namespace, description, owner,
                    exist_ok, call = sys.call()))
}
