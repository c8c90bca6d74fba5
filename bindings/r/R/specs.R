# Partitions, times and frames as the Rust side takes them.
#
# A partition is a scalar ("2016-10-31", 20161031L, as.Date("2016-10-31"))
# for a one-key table, a named list or vector (list(date = ..., region =
# "us")) naming its keys, an unnamed list of one value per key
# (list("2016-10-31", "us")), or "key=value/key=value". `partitions` is one
# partition or several: an unnamed vector is one partition per element, a
# list one per element, a data frame one per row.

.invalid <- function(message, code = "invalid_partition", call = sys.call(-1L)) {
  structure(
    class = c("batchmeta_invalid_input", "batchmeta_error", "error", "condition"),
    list(message = message, call = call, code = code, current_batch = NULL)
  )
}

.partition_value <- function(v, call) {
  if (length(v) != 1L) {
    stop(.invalid(sprintf(
      "a partition value is one value, not %d: name several keys with list(date = ..., region = ...)",
      length(v)), call = call))
  }
  if (is.list(v)) v <- v[[1L]]
  if (inherits(v, "POSIXt")) {
    stop(.invalid(sprintf(
      "partition value %s is a timestamp: partitions hold dates, so pass as.Date(x)",
      format(v)), call = call))
  }
  if (inherits(v, "Date")) {
    if (is.na(v)) stop(.invalid("a partition value cannot be NA", call = call))
    return(c(value = format(v, "%Y-%m-%d"), type = "date"))
  }
  if (inherits(v, "integer64")) {
    if (!requireNamespace("bit64", quietly = TRUE)) {
      stop(.invalid("an integer64 partition value needs the bit64 package", call = call))
    }
    v <- as.character(v)
    if (is.na(v)) stop(.invalid("a partition value cannot be NA", call = call))
    return(c(value = v, type = "int"))
  }
  if (is.factor(v)) v <- as.character(v)
  if (is.logical(v)) {
    stop(.invalid("a partition value cannot be TRUE, FALSE or NA: use a string, a whole number or a Date",
                  call = call))
  }
  if (is.na(v)) stop(.invalid("a partition value cannot be NA", call = call))
  if (is.numeric(v)) {
    if (!is.finite(v) || v != trunc(v)) {
      stop(.invalid(sprintf("partition value %s is not a whole number: use a string, a whole number or a Date",
                            format(v)), call = call))
    }
    return(c(value = formatC(v, format = "d", big.mark = ""), type = "int"))
  }
  if (is.character(v)) return(c(value = enc2utf8(v), type = ""))
  stop(.invalid(sprintf("a partition value of class %s: use a string, a whole number or a Date",
                        paste(class(v), collapse = "/")), call = call))
}

.named <- function(x) !is.null(names(x)) && all(nzchar(names(x)))

# One partition in the Rust side's form.
.spec <- function(p, call) {
  if (is.data.frame(p)) p <- as.list(p)
  named <- .named(p)
  vals <- if (is.list(p)) p else lapply(seq_along(p), function(i) p[i])
  if (length(vals) == 0L) stop(.invalid("a partition has at least one value", call = call))
  conv <- lapply(vals, .partition_value, call = call)
  list(
    values = unname(vapply(conv, `[[`, "", "value")),
    names = if (named) names(p) else NULL,
    types = unname(vapply(conv, `[[`, "", "type"))
  )
}

# `partitions` (one partition or several) as a list of specs, or NULL.
.specs <- function(x, call) {
  if (is.null(x)) return(NULL)
  if (is.data.frame(x)) {
    return(lapply(seq_len(nrow(x)), function(i) .spec(x[i, , drop = FALSE], call)))
  }
  if (.named(x)) return(list(.spec(x, call)))
  if (is.list(x)) return(lapply(x, .spec, call = call))
  if (is.atomic(x)) return(lapply(seq_along(x), function(i) .spec(x[i], call)))
  stop(.invalid(
    "partitions is a value (\"2016-10-31\"), a vector of values, a named list (list(date = \"2016-10-31\")), a list of those or a data frame of key columns",
    call = call))
}

# Exactly one partition (store, rollback, history, pin): NULL, or one spec.
.one_spec <- function(x, what, call) {
  specs <- .specs(x, call)
  if (is.null(specs)) return(NULL)
  if (length(specs) != 1L) {
    stop(.invalid(sprintf(
      "%s takes exactly one partition, got %d: give one, e.g. partitions = \"2016-10-31\"%s",
      what, length(specs),
      if (what == "store_dataframe") ", or split one frame into many with partition_by = c(...)" else ""),
      call = call))
  }
  specs[[1L]]
}

# A time as text: POSIXct in UTC with microseconds, Date as a day,
# strings as given ("2016-11-01", "2016-11-01T00:00:00Z", "2d").
.time <- function(t, what, call) {
  if (is.null(t)) return(NULL)
  if (length(t) != 1L || is.na(t)) {
    stop(.invalid(sprintf("%s is one time", what), code = "invalid_time", call = call))
  }
  if (inherits(t, "POSIXt")) return(format(as.POSIXct(t), "%Y-%m-%dT%H:%M:%OS6Z", tz = "UTC"))
  if (inherits(t, "Date")) return(format(t, "%Y-%m-%d"))
  if (is.character(t)) return(t)
  stop(.invalid(sprintf(
    "%s must be a POSIXct, a Date or a string such as \"2016-11-01\", \"2016-11-01T00:00:00Z\" or \"2d\"",
    what), code = "invalid_time", call = call))
}

.str <- function(x) if (is.null(x)) NULL else as.character(x)

# A data frame from the Rust side's columns.
.frame <- function(res) {
  n <- as.integer(res$nrow)
  structure(res$columns, class = "data.frame", row.names = .set_row_names(n))
}

.set_row_names <- function(n) if (n > 0L) c(NA_integer_, -n) else integer()

.columns_frame <- function(cols, times = character()) {
  n <- if (length(cols)) length(cols[[1L]]) else 0L
  for (t in times) {
    cols[[t]] <- structure(cols[[t]], class = c("POSIXct", "POSIXt"), tzone = "UTC")
  }
  structure(cols, class = "data.frame", row.names = .set_row_names(n))
}

.events_frame <- function(cols) .columns_frame(cols, "at")
