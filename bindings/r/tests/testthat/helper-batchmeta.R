# Shared by the tests: a real `meta serve` (started once, on a free loopback
# port, stopped when the tests end), one client per mode, fresh namespaces,
# `meta verify`, and the state a refused call must leave unchanged.

options(batchmeta.quiet = TRUE)

meta_bin <- function() {
  bin <- Sys.getenv("BATCHMETA_META_BIN")
  if (!nzchar(bin)) bin <- normalizePath(file.path("..", "..", "..", "..", "target", "debug", "meta"),
                                         mustWork = FALSE)
  if (!file.exists(bin)) stop(bin, " is missing: run scripts/r-test (it builds `meta`)")
  bin
}

python_bin <- function() {
  py <- Sys.getenv("BATCHMETA_PYTHON")
  if (!nzchar(py)) py <- normalizePath(file.path("..", "..", "..", "..", ".venv", "bin", "python"),
                                       mustWork = FALSE)
  py
}

free_port <- function() {
  # R cannot bind port 0 and read the port back; Python can.
  as.integer(system2("python3", c("-c", shQuote(
    "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")),
    stdout = TRUE))
}

http_ok <- function(url) {
  con <- url(url)
  on.exit(close(con))
  ok <- tryCatch({
    suppressWarnings(readLines(con, warn = FALSE))
    TRUE
  }, error = function(e) FALSE)
  ok
}

.servers <- new.env()

# A `meta serve` (one per `key`, started on first use, stopped when the
# tests end) on a free loopback port: its catalog is `database_url` and its
# warehouse `warehouse`, by default SQLite and a directory under a temp dir;
# `extra` are more flags (`--auth tokens`). Up when GET `ready` answers.
test_server <- function(key = "default", extra = character(), database_url = NULL,
                        warehouse = NULL, ready = "/healthz") {
  if (!is.null(.servers[[key]])) return(.servers[[key]])
  root <- tempfile("server")
  dir.create(root)
  if (is.null(database_url)) database_url <- paste0("sqlite://", file.path(root, "catalog.db"))
  if (is.null(warehouse)) warehouse <- file.path(root, "warehouse")
  port <- free_port()
  url <- sprintf("http://127.0.0.1:%d", port)
  args <- c("serve", "--bind", sprintf("127.0.0.1:%d", port), "--database-url", database_url,
            "--warehouse", warehouse, extra)
  cmd <- sprintf("RUST_LOG=warn exec %s %s > %s 2>&1 & echo $!", shQuote(meta_bin()),
                 paste(shQuote(args), collapse = " "), shQuote(file.path(root, "server.log")))
  pid <- as.integer(system2("sh", c("-c", shQuote(cmd)), stdout = TRUE))
  deadline <- Sys.time() + 60
  while (!http_ok(paste0(url, ready))) {
    if (Sys.time() > deadline) {
      tools::pskill(pid)
      stop("meta serve did not start: ", paste(readLines(file.path(root, "server.log")), collapse = "\n"))
    }
    Sys.sleep(0.05)
  }
  srv <- list(url = url, pid = pid, root = root, database_url = database_url, warehouse = warehouse)
  .servers[[key]] <- srv
  withr::defer(tools::pskill(pid), envir = testthat::teardown_env())
  srv
}

# The `meta` CLI: its stdout lines, with attribute "status" when it failed
# and "stderr" (its stderr lines).
meta_cli <- function(args) {
  err <- tempfile()
  on.exit(unlink(err))
  out <- suppressWarnings(system2(meta_bin(), shQuote(args), stdout = TRUE, stderr = err,
                                  env = "RUST_BACKTRACE=0"))
  attr(out, "stderr") <- readLines(err)
  out
}

# The PostgreSQL and S3 (moto) that scripts/with-services starts, or NULL
# (then the tests that need them skip, saying why).
services <- function() {
  pg <- Sys.getenv("BATCHMETA_TEST_POSTGRES_URL")
  s3 <- Sys.getenv("BATCHMETA_TEST_S3_URL")
  if (!nzchar(pg) || !nzchar(s3)) return(NULL)
  list(postgres = pg, s3 = s3)
}

# A new, empty database on the PostgreSQL of `admin_url`: its URL.
fresh_postgres_database <- function(admin_url) {
  name <- paste0("bm_r_", paste(sample(c(letters, 0:9), 12, replace = TRUE), collapse = ""))
  psql <- file.path(Sys.getenv("BATCHMETA_TEST_PG_BINDIR"), "psql")
  if (!file.exists(psql)) psql <- "psql"
  out <- suppressWarnings(system2(psql, c(shQuote(admin_url), "-q", "-c",
                                          shQuote(sprintf('CREATE DATABASE "%s"', name))),
                                  stdout = TRUE, stderr = TRUE))
  if (!is.null(attr(out, "status"))) stop("CREATE DATABASE failed: ", paste(out, collapse = "\n"))
  sub("/[^/?]*(\\?.*)?$", paste0("/", name, "\\1"), admin_url)
}

MODES <- c("embedded", "remote", "remote_upload")

# One test's catalog: a client, a fresh namespace, the warehouse dir and the
# URL `meta` takes for it.
test_env <- function(mode) {
  ns <- paste0("t", paste(sample(c(letters, 0:9), 12, replace = TRUE), collapse = ""))
  if (mode == "embedded") {
    dir <- tempfile("catalog")
    client <- suppressMessages(batchmeta::connect(dir, default = FALSE))
    warehouse <- file.path(dir, "warehouse")
    url <- dir
  } else {
    srv <- test_server()
    client <- batchmeta::connect(srv$url, direct_data = mode == "remote", default = FALSE)
    warehouse <- srv$warehouse
    url <- srv$url
  }
  batchmeta::create_namespace(ns, client = client)
  list(mode = mode, client = client, ns = ns, warehouse = warehouse, url = url)
}

# `meta verify` on the env's catalog: must exit 0 and report no violations.
meta_verify <- function(env) {
  out <- suppressWarnings(system2(meta_bin(), c("--url", shQuote(env$url), "verify"),
                                  stdout = TRUE, stderr = TRUE))
  status <- attr(out, "status")
  testthat::expect_true(is.null(status) || status == 0L, info = paste(out, collapse = "\n"))
  testthat::expect_match(paste(out, collapse = "\n"), "no violations")
  invisible(out)
}

# What a refused call must leave unchanged: the namespace's events and the
# files under it in the warehouse.
snapshot <- function(env) {
  ev <- batchmeta::events(env$ns, client = env$client)
  root <- file.path(env$warehouse, env$ns)
  list(events = nrow(ev), last = if (nrow(ev)) ev$id[1] else NA,
       files = sort(list.files(root, recursive = TRUE, all.files = TRUE)))
}

# A frame of every type R stores, NA in each column.
all_types <- function(n = 3L) {
  stopifnot(n >= 3L)
  k <- n - 3L
  df <- data.frame(
    i = c(1L, NA, -2147483647L, seq_len(k)),
    d = c(1.5, NA, NaN, seq_len(k) / 7),
    s = c("a", NA, "\u00fc\u65e5", rep("x", k)),
    b = c(TRUE, NA, FALSE, rep(TRUE, k)),
    f = factor(c("lo", NA, "hi", rep("lo", k)), levels = c("lo", "mid", "hi")),
    o = factor(c("s", "l", NA, rep("m", k)), levels = c("s", "m", "l"), ordered = TRUE),
    dt = as.Date(c("2016-10-31", NA, "1969-12-31", rep("2000-02-29", k))),
    ts = as.POSIXct(c("2016-10-31 12:34:56.5", NA, "1960-01-01 00:00:00", rep("2020-03-08 12:00:00", k)),
                    tz = "America/New_York"),
    utc = as.POSIXct(c("2016-10-31 23:59:59.25", "1970-01-01 00:00:00", NA, rep("2038-01-19 03:14:08", k)),
                     tz = "UTC"),
    i64 = bit64::as.integer64(c("9007199254740993", NA, "-9223372036854775807", rep("1", k))),
    stringsAsFactors = FALSE
  )
  df
}
