# The Rust functions (src/rust/src/client.rs). Each answers its value or a
# condition object of class batchmeta_error; .answer() signals the latter
# from the user's call, so errors never unwind through Rust.

.answer <- function(res, call) {
  if (inherits(res, "batchmeta_error")) {
    res$call <- call
    stop(res)
  }
  res
}

.native <- function(name, ..., call = sys.call(-1L)) {
  .answer(.Call(name, ..., PACKAGE = "batchmeta"), call)
}
