//! The end-to-end shell tour (`cli/tests/e2e.sh`), run with the built
//! `meta` first on PATH in an empty directory.

use std::path::Path;
use std::process::Command;

#[test]
fn e2e_shell_tour() {
    let dir = tempfile::tempdir().unwrap();
    crate::harness::write_parquet(&dir.path().join("sold.parquet"), &[1, 2, 3]);
    let bin_dir = Path::new(crate::harness::meta_bin()).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e.sh");
    let out = Command::new("bash")
        .arg(&script)
        .current_dir(dir.path())
        .env("PATH", path)
        .env("RUST_BACKTRACE", "0")
        .env("USER", "e2e_user")
        .env_remove("BATCHMETA_URL")
        .env_remove("BATCHMETA_WAREHOUSE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "e2e.sh failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("e2e: all checks passed"), "{stdout}");
}
