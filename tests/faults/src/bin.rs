//! The real `textback` binary, built once per test process.
//!
//! Cargo only hands `CARGO_BIN_EXE_*` to a package's own tests, so this crate asks cargo itself:
//! `cargo build -p textback-cli --bin textback` with the profile, target directory (and target
//! triple) this test binary was built with, worked out from the test binary's own path
//! (`<target>/<profile>/deps/faults-<hash>`). The build is a no-op when the binary is current,
//! and it always is afterwards: the suite never runs a stale daemon. `TEXTBACK_BIN=/path` skips
//! the build and runs that binary instead (a release artifact, say).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Where this test binary was built: the target dir, the profile's directory in it, and the
/// target triple when one was given.
#[derive(Debug, Clone)]
pub struct Layout {
    pub target_dir: PathBuf,
    pub profile_dir: PathBuf,
    pub triple: Option<String>,
}

/// The layout of the running test binary.
pub fn layout() -> Result<Layout, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find the test binary: {e}"))?;
    let unexpected = || {
        format!(
            "the test binary {} is not in <target>/<profile>/deps/; set TEXTBACK_BIN to a built `textback`",
            exe.display()
        )
    };
    let profile_dir = exe.parent().and_then(Path::parent).ok_or_else(unexpected)?;
    let above = profile_dir.parent().ok_or_else(unexpected)?;
    // Cargo marks the root of a target directory with CACHEDIR.TAG; anything else above the
    // profile directory is a `--target <triple>` level.
    let (target_dir, triple) = if above.join("CACHEDIR.TAG").exists() {
        (above.to_path_buf(), None)
    } else {
        let triple = above
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(unexpected)?;
        (
            above.parent().ok_or_else(unexpected)?.to_path_buf(),
            Some(triple.to_owned()),
        )
    };
    Ok(Layout {
        target_dir,
        profile_dir: profile_dir.to_path_buf(),
        triple,
    })
}

/// The `textback` binary (built on first use). Panics with cargo's own message if it does not
/// build: every case needs it.
pub fn textback() -> &'static Path {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match BIN.get_or_init(build) {
        Ok(path) => path,
        Err(e) => panic!("cannot get the textback binary: {e}"),
    }
}

fn build() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("TEXTBACK_BIN") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("TEXTBACK_BIN={} is not a file", path.display()))
        };
    }
    let layout = layout()?;
    let profile = match layout
        .profile_dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
    {
        "debug" => "dev".to_owned(),
        other => other.to_owned(),
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args([
            "build",
            "--quiet",
            "-p",
            "textback-cli",
            "--bin",
            "textback",
        ])
        .args(["--profile", &profile])
        .arg("--target-dir")
        .arg(&layout.target_dir);
    if let Some(triple) = &layout.triple {
        cmd.args(["--target", triple]);
    }
    let started = std::time::Instant::now();
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run cargo to build textback: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`cargo build -p textback-cli` failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let bin = layout
        .profile_dir
        .join(format!("textback{}", std::env::consts::EXE_SUFFIX));
    if !bin.is_file() {
        return Err(format!(
            "cargo built textback but {} is missing",
            bin.display()
        ));
    }
    println!(
        "faults: using {} (cargo build took {:.1} s)",
        bin.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(bin)
}
