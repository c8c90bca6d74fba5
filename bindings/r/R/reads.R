# Reads: frames and their files, and what the catalog holds.

#' Load partitions as a data frame
#'
#' Reads partitions with the partition key columns restored (after the data
#' columns), as a data.frame or a tibble. Types come back as they were
#' stored: factors with their levels in order, Date, POSIXct in its time
#' zone, `NA` in every type, 64-bit integers as bit64's `integer64`.
#'
#' @inheritParams store_dataframe
#' @param partitions one partition or several (an unnamed vector is one
#'   partition per element, a list one per element, a data frame of key
#'   columns one per row); `NULL` reads every partition.
#' @param batch_id read this batch instead of the current one.
#' @param as_of read the table as it was at this time: a POSIXct, a Date, or
#'   a string such as `"2016-11-01T00:00:00Z"` or `"2d"` (two days ago).
#' @param pin read what the pin of this name holds (see [pin()]).
#'   Give at most one of `batch_id`, `as_of` and `pin`.
#' @param columns read only these columns.
#' @param output `"data.frame"` or `"tibble"` (needs the tibble package).
#' @param int64 64-bit integer columns as bit64's `"integer64"` (exact; the
#'   default when bit64 is installed) or `"double"` (exact up to 2^53).
#' @return A data.frame (or a tibble).
#' @examples
#' \dontrun{
#' load_dataframe("sales", "sold_items", partitions = "2016-10-31")
#' load_dataframe("sales", "sold_items", as_of = "2016-11-01T00:00:00Z", output = "tibble")
#' }
#' @export
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

#' The seed's reader
#'
#' `sf_reader(namespace = src_db, resource = src_table, partitions = ...)` is
#' `load_dataframe(src_db, src_table, partitions = ...)`.
#'
#' @inheritParams load_dataframe
#' @param resource the table name.
#' @param ... the other arguments of [load_dataframe()].
#' @return What [load_dataframe()] returns.
#' @export
sf_reader <- function(namespace, resource, partitions = NULL, ...) {
  load_dataframe(namespace, resource, partitions = partitions, ...)
}

#' The data files of partitions
#'
#' The full URIs of the Parquet files of the resolved partitions, for other
#' engines to read.
#'
#' @inheritParams load_dataframe
#' @return A character vector of URIs.
#' @export
files <- function(namespace, table, partitions = NULL, batch_id = NULL, as_of = NULL, pin = NULL,
                  client = NULL) {
  call <- sys.call()
  .native("wrap__bm_files", .client(client), namespace, table, .specs(partitions, call), batch_id,
          .time(as_of, "as_of", call), pin, call = call)
}

#' The batches of a partition
#'
#' Every batch of one partition (staged and committed), newest first.
#'
#' @inheritParams store_dataframe
#' @param partition one partition (see [store_dataframe()]); `NULL` for a
#'   table without partition keys.
#' @return A data frame: `batch_id`, `partition`, `state`, `parent`, `rows`,
#'   `bytes`, `files`, `principal`, `message`, `created_at`, `committed_at`,
#'   `location`.
#' @export
batches <- function(namespace, table, partition = NULL, client = NULL) {
  call <- sys.call()
  .columns_frame(.native("wrap__bm_batches", .client(client), namespace, table,
                         .one_spec(partition, "batches", call), call = call),
                 c("created_at", "committed_at"))
}

#' The partitions of a table
#'
#' Published partitions and their current batches, in key order.
#'
#' @inheritParams store_dataframe
#' @param prefix only partitions whose path starts with this
#'   (`"date=2016-10"`).
#' @param limit at most this many rows (`NULL`: all).
#' @return A data frame: `partition`, `batch_id`, `version`, `updated_at`.
#' @export
partitions <- function(namespace, table, prefix = NULL, limit = NULL, client = NULL) {
  .columns_frame(.native("wrap__bm_partitions", .client(client), namespace, table, prefix, limit,
                         call = sys.call()), "updated_at")
}

#' The tables of a namespace
#'
#' @inheritParams store_dataframe
#' @return A data frame: `namespace`, `name`, `partition_keys` (comma
#'   separated), `schema_version`, `location`.
#' @export
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

#' One table
#'
#' (Named `table_info` because `table()` is base R's.)
#'
#' @inheritParams store_dataframe
#' @return A list: `namespace`, `name`, `columns` (a data frame of `name`,
#'   `type`, `nullable`), `partition_keys` (a data frame of `name`, `type`),
#'   `schema_version`, `location`, `description`, `owner`, `created_at`,
#'   `updated_at`.
#' @export
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

#' The namespaces
#'
#' @inheritParams store_dataframe
#' @return A character vector of namespace names.
#' @export
namespaces <- function(client = NULL) {
  .native("wrap__bm_namespaces", .client(client), call = sys.call())
}
