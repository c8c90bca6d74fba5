# The README's R quick start, as written, on a fresh `meta serve` of its
# own (the URL pointed at it): every line must run and do what it says.

test_that("the README's R quick start runs and does what it says", {
  readme <- Sys.getenv("BATCHMETA_README")
  if (!nzchar(readme)) readme <- test_path("..", "..", "..", "..", "README.md")
  text <- paste(readLines(readme, warn = FALSE), collapse = "\n")
  rest <- substring(text, regexpr("## R quick start", text, fixed = TRUE))
  code <- regmatches(rest, regexpr("```r\n(.*?)```", rest))
  code <- sub("^```r\n", "", sub("```$", "", code))
  expect_match(code, "connect(\"http://127.0.0.1:8080\")", fixed = TRUE)
  srv <- test_server("readme")
  code <- gsub("http://127.0.0.1:8080", srv$url, code, fixed = TRUE)

  withr::local_options(batchmeta.quiet = FALSE)
  said <- character()
  withCallingHandlers(
    eval(parse(text = code), envir = new.env(parent = globalenv())),
    message = function(m) {
      said <<- c(said, conditionMessage(m))
      invokeRestart("muffleMessage")
    }
  )
  expect_true(any(grepl("created table sales.sold_items", said, fixed = TRUE)))
  expect_true(any(grepl("did you mean `sales`?", said, fixed = TRUE)), info = paste(said, collapse = "\n"))
  expect_true(any(grepl("batchmeta::create_namespace(\"slaes\")", said, fixed = TRUE)))

  c <- connect(srv$url, default = FALSE)
  expect_identical(partitions("sales", "sold_items", client = c)$partition, "date=2016-10-31")
  now <- load_dataframe("sales", "sold_items", client = c)
  expect_identical(now$price, c(1.25, 0.80))
  expect_identical(history("sales", "sold_items", "2016-10-31", client = c)$action,
                   c("rollback", "publish", "publish"))
  expect_false("slaes" %in% namespaces(client = c))
})
