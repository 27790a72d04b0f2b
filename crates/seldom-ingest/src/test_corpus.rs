//! The real corpus for this crate's unit tests (the integration tests have
//! their own copy in `tests/common`): `../shared/corpus` beside the
//! checkout, or `None` outside CI when it is absent. Under `CI=true` a
//! missing corpus fails the test loudly.

use std::path::PathBuf;

pub(crate) fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "the corpus is missing at {} (CI=true requires it)",
        dir.display()
    );
    None
}
