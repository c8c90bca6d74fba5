# R against the deployment of docs/deployment.md: a `meta serve --auth
# tokens` whose catalog is PostgreSQL and whose warehouse is S3 (moto), both
# from scripts/with-services. connect(url, token): every type round-trips
# (data written straight to S3, and uploaded through the server), the files
# are S3 objects, rollback and compare-and-swap work, events record the
# token's name; a reader's write, a missing or a wrong token are refused
# with their condition classes and change nothing.

pg_s3_server <- function() {
  svc <- services()
  skip_if(is.null(svc), "BATCHMETA_TEST_POSTGRES_URL / BATCHMETA_TEST_S3_URL not set: run via scripts/with-services")
  if (!is.null(.servers[["pg_s3_tokens"]])) return(.servers[["pg_s3_tokens"]])
  database_url <- fresh_postgres_database(svc$postgres)
  warehouse <- sprintf("%s/r-%s", sub("/+$", "", svc$s3),
                       paste(sample(c(letters, 0:9), 12, replace = TRUE), collapse = ""))
  catalog <- c("--url", database_url, "--warehouse", warehouse)
  tokens <- list()
  for (t in list(c("r_admin", "admin"), c("r_writer", "writer:sales"), c("r_reader", "reader:sales"))) {
    out <- meta_cli(c(catalog, "token", "create", t[1], "--role", t[2]))
    expect_null(attr(out, "status"), info = paste(attr(out, "stderr"), collapse = "\n"))
    tokens[[t[1]]] <- trimws(out[[1L]])
  }
  srv <- test_server("pg_s3", extra = c("--auth", "tokens"), database_url = database_url,
                     warehouse = warehouse, ready = "/readyz")
  srv$tokens <- tokens
  srv$catalog <- catalog
  admin <- connect(srv$url, token = tokens$r_admin, direct_data = FALSE, default = FALSE)
  create_namespace("sales", exist_ok = TRUE, client = admin)
  srv$admin <- admin
  .servers[["pg_s3_tokens"]] <- srv
  srv
}

# What a refused call must leave unchanged: every event, read by the admin.
pg_events <- function(srv) nrow(events(client = srv$admin))

pg_verify <- function(srv) {
  out <- meta_cli(c(srv$catalog, "verify"))
  expect_null(attr(out, "status"), info = paste(c(out, attr(out, "stderr")), collapse = "\n"))
  expect_match(paste(out, collapse = "\n"), "no violations")
}

for (direct in c(TRUE, FALSE)) {
  test_that(sprintf("PostgreSQL + S3 with a token: types, files, rollback, CAS (direct_data = %s)", direct), {
    srv <- pg_s3_server()
    c <- connect(srv$url, token = srv$tokens$r_writer, direct_data = direct, default = FALSE)
    table <- if (direct) "types_direct" else "types_upload"
    want <- all_types(5L)
    # Creating a table takes an admin; a writer writes into it.
    r0 <- store_dataframe(want, "sales", table, partitions = list(date = as.Date("2016-10-31")),
                          client = srv$admin)
    expect_true(r0$created_table)
    r1 <- store_dataframe(want, "sales", table, partitions = "2016-10-31", client = c)
    got <- load_dataframe("sales", table, partitions = "2016-10-31", client = c)
    expect_identical(got[names(want)], want)
    expect_identical(got$date, rep(as.Date("2016-10-31"), 5L))

    # The data files are S3 objects under the batch's prefix.
    f <- files("sales", table, partitions = "2016-10-31", client = c)
    expect_true(length(f) >= 1L)
    expect_true(all(startsWith(f, sprintf("%s/sales/%s/date=2016-10-31/%s/", srv$warehouse, table,
                                          r1$batch_id))))

    r2 <- store_dataframe(want[1:2, ], "sales", table, partitions = "2016-10-31", client = c)
    expect_identical(nrow(load_dataframe("sales", table, client = c)), 2L)
    e <- expect_error(store_dataframe(want, "sales", table, partitions = "2016-10-31",
                                      expected_batch = r1$batch_id, client = c),
                      class = "batchmeta_conflict")
    expect_identical(e$current_batch, r2$batch_id)
    rollback("sales", table, partitions = "2016-10-31", client = c)
    expect_identical(load_dataframe("sales", table, client = c)[names(want)], want)

    ev <- events("sales", table, client = c)
    expect_identical(ev$action, c("rollback", "publish", "publish", "publish", "create_table"))
    expect_identical(ev$principal, c(rep("token:r_writer", 3L), rep("token:r_admin", 2L)))
    pg_verify(srv)
  })
}

test_that("PostgreSQL + S3: a reader token reads, and its write is refused, changing nothing", {
  srv <- pg_s3_server()
  w <- srv$admin
  store_dataframe(data.frame(v = 1:3), "sales", "readable", partitions = list(day = "d1"), client = w)
  reader <- connect(srv$url, token = srv$tokens$r_reader, direct_data = FALSE, default = FALSE)
  expect_identical(load_dataframe("sales", "readable", client = reader)$v, 1:3)

  before <- pg_events(srv)
  e <- expect_error(store_dataframe(data.frame(v = 4L), "sales", "readable", partitions = "d1",
                                    client = reader),
                    class = "batchmeta_permission")
  expect_s3_class(e, "batchmeta_error")
  expect_identical(e$code, "forbidden")
  expect_false(inherits(e, "batchmeta_authentication"))
  expect_match(conditionMessage(e), "writer on namespace sales", fixed = TRUE)
  expect_error(rollback("sales", "readable", partitions = "d1", client = reader),
               class = "batchmeta_permission")
  expect_error(create_namespace("other", client = reader), class = "batchmeta_permission")
  expect_identical(pg_events(srv), before)
  expect_identical(load_dataframe("sales", "readable", client = w)$v, 1:3)
  pg_verify(srv)
})

test_that("PostgreSQL + S3: no token or a wrong one is a batchmeta_authentication condition", {
  srv <- pg_s3_server()
  before <- pg_events(srv)
  e <- expect_error({
    c <- connect(srv$url, direct_data = FALSE, default = FALSE)
    namespaces(client = c)
  }, class = "batchmeta_authentication")
  expect_identical(e$code, "unauthorized")
  e <- expect_error({
    c <- connect(srv$url, token = paste0("bm_0123456789abcdef_", strrep("0", 64)), direct_data = FALSE,
                 default = FALSE)
    store_dataframe(data.frame(v = 1L), "sales", "readable", partitions = "d1", client = c)
  }, class = "batchmeta_authentication")
  expect_identical(e$code, "invalid_token")
  expect_match(conditionMessage(e), "token")
  expect_identical(pg_events(srv), before)
})
