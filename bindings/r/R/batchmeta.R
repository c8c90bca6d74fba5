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
#' The functions use a default client: `BATCHMETA_URL` if set, else the
#' embedded catalog in `.batchmeta/` of the working directory.
#' [connect()] picks another; every function also takes `client = ` for a
#' client of its own. Errors are conditions of class `batchmeta_error` and
#' one class per kind (`batchmeta_not_found`, `batchmeta_conflict`,
#' `batchmeta_schema_mismatch`, ...). See docs/r.md.
#'
#' The package by concern: `batchmeta.R` (connecting), `writes.R`
#' (storing, namespaces), `reads.R` (loading, listings), `versions.R`
#' (rollback, history, pins, the audit trail), `specs.R` (partitions and
#' times as the Rust side takes them), `native.R` (calling it).
#' @keywords internal
"_PACKAGE"

#' Publish only into a partition that was never published
#'
#' `expected_batch = NO_BATCH` makes [store_dataframe()] publish only if the
#' partition has no batch yet; otherwise it signals `batchmeta_conflict`.
#' @format The string `"none"`.
#' @export
NO_BATCH <- "none"

.state <- new.env(parent = emptyenv())

# Notes on stderr, as Python prints them; options(batchmeta.quiet = TRUE) silences them.
.say <- function(text) if (!isTRUE(getOption("batchmeta.quiet"))) message(text)

.principal <- function() {
  user <- Sys.info()[["user"]]
  if (is.null(user) || !nzchar(user) || identical(user, "unknown")) user <- Sys.getenv("USER", "r")
  if (!nzchar(user)) "r" else user
}

#' Connect to a catalog
#'
#' Connects to a catalog and makes it the default of every function. Embedded,
#' events record the operating-system user as the principal. A client
#' survives `fork()` (`parallel::mclapply`): the child reconnects.
#' Object-store credentials come from the standard `AWS_*` variables.
#'
#' @param url `"http(s)://host:port"` for a `meta serve`;
#'   `"sqlite:///path/catalog.db"` or a directory for an embedded catalog;
#'   `NULL` for `BATCHMETA_URL`, else the embedded default `.batchmeta/` in
#'   the working directory (its location is printed).
#' @param token (server URLs) the bearer token of a server started with
#'   `--auth tokens`, default `BATCHMETA_TOKEN`; events then record the
#'   token's name as the principal.
#' @param warehouse the warehouse of an embedded catalog given by a database
#'   URL, default `BATCHMETA_WAREHOUSE`.
#' @param direct_data (server URLs) `TRUE` reads and writes the warehouse
#'   directly, `FALSE` sends data through the server, `NULL` decides by trying.
#' @param default `FALSE` returns a client without making it the default.
#' @param run_id,job the run this client's stores record (lineage), default
#'   `BATCHMETA_RUN_ID` and `BATCHMETA_JOB`; a fresh run id otherwise. A store
#'   records the batches this client loaded since its last store as its inputs.
#' @return A `batchmeta_client`, invisibly.
#' @examples
#' \dontrun{
#' connect("http://metastore:8080", token = Sys.getenv("BATCHMETA_TOKEN"))
#' other <- connect(tempfile("catalog"), default = FALSE)
#' }
#' @export
connect <- function(url = NULL, token = NULL, warehouse = NULL, direct_data = NULL,
                    default = TRUE, run_id = NULL, job = NULL) {
  call <- sys.call()
  if (is.null(url) && nzchar(Sys.getenv("BATCHMETA_URL"))) url <- Sys.getenv("BATCHMETA_URL")
  if (is.null(token) && nzchar(Sys.getenv("BATCHMETA_TOKEN"))) token <- Sys.getenv("BATCHMETA_TOKEN")
  if (is.null(warehouse) && nzchar(Sys.getenv("BATCHMETA_WAREHOUSE"))) {
    warehouse <- Sys.getenv("BATCHMETA_WAREHOUSE")
  }
  if (is.null(run_id) && nzchar(Sys.getenv("BATCHMETA_RUN_ID"))) run_id <- Sys.getenv("BATCHMETA_RUN_ID")
  if (is.null(job) && nzchar(Sys.getenv("BATCHMETA_JOB"))) job <- Sys.getenv("BATCHMETA_JOB")
  ptr <- .native("wrap__bm_connect", url, warehouse, token, .principal(), direct_data,
                 run_id, job, call = call)
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
#' @noRd
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
