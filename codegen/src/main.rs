//! The generator of `src/generated/`: reads `codegen/ens-2017-11-10.json` (Alibaba's metadata,
//! extracted by `codegen/extract.py`), `codegen/overrides.json` (what the metadata gets wrong)
//! and `codegen/golden.json` (the official SDK's wire forms, by `codegen/golden.py`), and writes
//! the generated operations, the features block of `Cargo.toml` and the generated tests.
//!
//! `cargo run --manifest-path codegen/Cargo.toml` writes; `-- --check` only compares and fails
//! on any difference (CI runs that).

mod emit;
mod golden;
mod ir;
mod model;
mod names;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const BEGIN: &str = "# BEGIN generated features (codegen/: one per family of operations)\n";
const END: &str = "# END generated features\n";

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn run(check: bool) -> Result<bool, String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no repository root")?
        .to_owned();
    let meta: model::Metadata = read_json(&root.join("codegen/ens-2017-11-10.json"))?;
    let ov: model::Overrides = read_json(&root.join("codegen/overrides.json"))?;
    let golden: model::Golden = read_json(&root.join("codegen/golden.json"))?;
    let api = ir::build(&meta, &ov)?;

    let mut files: BTreeMap<String, String> = emit::files(&api);
    files.insert(
        "tests/generated_golden.rs".to_owned(),
        golden::test_file(&api, &meta, &golden)?,
    );
    rustfmt(&root, &mut files)?;
    let cargo_path = root.join("Cargo.toml");
    let cargo = std::fs::read_to_string(&cargo_path).map_err(|e| e.to_string())?;
    let (start, end) = match (cargo.find(BEGIN), cargo.find(END)) {
        (Some(s), Some(e)) if s < e => (s + BEGIN.len(), e),
        _ => return Err("Cargo.toml has no generated features block".into()),
    };
    let new_cargo = format!(
        "{}{}{}",
        &cargo[..start],
        emit::features(&api),
        &cargo[end..]
    );
    files.insert("Cargo.toml".to_owned(), new_cargo);

    // Files under src/generated/ that the generator no longer writes.
    let mut stale = Vec::new();
    walk(&root.join("src/generated"), &mut |p| {
        let rel = p
            .strip_prefix(&root)
            .unwrap_or(p)
            .to_string_lossy()
            .replace('\\', "/");
        if !files.contains_key(&rel) {
            stale.push(p.to_owned());
        }
    });

    let mut clean = true;
    for (rel, text) in &files {
        let path = root.join(rel);
        let old = std::fs::read_to_string(&path).ok();
        if old.as_deref() == Some(text.as_str()) {
            continue;
        }
        clean = false;
        if check {
            eprintln!("differs: {rel}");
        } else {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
            }
            std::fs::write(&path, text).map_err(|e| format!("{rel}: {e}"))?;
        }
    }
    for p in stale {
        clean = false;
        if check {
            eprintln!("not generated any more: {}", p.display());
        } else {
            std::fs::remove_file(&p).map_err(|e| e.to_string())?;
        }
    }
    let ops: usize = api.families.iter().map(|f| f.ops.len()).sum();
    eprintln!(
        "{} operations in {} families (+{} hand-made), {} shared outputs, {} files",
        ops,
        api.families.len(),
        api.hand_made.len(),
        api.shared.len(),
        files.len()
    );
    Ok(clean)
}

/// Formats every Rust file as `cargo fmt` would (one rustfmt run over a scratch copy), so that
/// `cargo fmt --check` holds for the generated files too.
fn rustfmt(root: &Path, files: &mut BTreeMap<String, String>) -> Result<(), String> {
    let scratch = std::env::temp_dir().join(format!("ens-codegen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let mut paths = Vec::new();
    for (rel, text) in files.iter() {
        if rel.ends_with(".rs") {
            let p = scratch.join(rel);
            std::fs::create_dir_all(p.parent().ok_or("no parent")?).map_err(|e| e.to_string())?;
            std::fs::write(&p, text).map_err(|e| e.to_string())?;
            paths.push((rel.clone(), p));
        }
    }
    // rustfmt follows `mod x;`: the generated test's hand-written modules, as empty stand-ins.
    for stub in ["tests/common/mod.rs", "tests/golden/mod.rs"] {
        let p = scratch.join(stub);
        std::fs::create_dir_all(p.parent().ok_or("no parent")?).map_err(|e| e.to_string())?;
        std::fs::write(&p, "").map_err(|e| e.to_string())?;
    }
    let mut cmd = std::process::Command::new("rustfmt");
    cmd.arg("--edition").arg("2021");
    for name in ["rustfmt.toml", ".rustfmt.toml"] {
        if root.join(name).exists() {
            cmd.arg("--config-path").arg(root.join(name));
        }
    }
    let status = cmd
        .args(paths.iter().map(|(_, p)| p))
        .status()
        .map_err(|e| format!("rustfmt: {e}"))?;
    if !status.success() {
        return Err("rustfmt failed on the generated code".into());
    }
    for (rel, p) in paths {
        let text = std::fs::read_to_string(&p).map_err(|e| e.to_string())?;
        files.insert(rel, text);
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

fn walk(dir: &Path, f: &mut dyn FnMut(&Path)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            walk(&p, f);
        } else {
            f(&p);
        }
    }
}

fn main() -> ExitCode {
    let check = std::env::args().any(|a| a == "--check");
    match run(check) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) if check => {
            eprintln!("the generated files are stale: run `cargo run --manifest-path codegen/Cargo.toml` and commit");
            ExitCode::FAILURE
        }
        Ok(false) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("codegen: {e}");
            ExitCode::FAILURE
        }
    }
}
