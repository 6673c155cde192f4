//! The repository stands alone: a user's clone has no developers' notes beside it,
//! so every document and doc comment points inside the repository, and the README
//! says where the `ca` program is and links the profile, CLI and architecture docs.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Every text file of the repository (sources, docs, scripts, web files), not
/// build output nor version control.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if !["target", ".git", "node_modules"].contains(&name.as_str()) {
                files(&path, out);
            }
        } else if ["rs", "md", "toml", "sh", "py", "json", "html", "js", "css"].iter().any(|e| name.ends_with(&format!(".{e}"))) {
            out.push(path);
        }
    }
}

#[test]
fn nothing_points_outside_the_repository() {
    let mut all = Vec::new();
    files(&root(), &mut all);
    assert!(all.len() > 100, "{} files found", all.len());
    // Spelt at run time, so that this file does not name it.
    let needle = ["..", "shared"].join("/");
    let mut outside = Vec::new();
    for f in all {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            // The developers' optional module-cycle check, skipped when absent.
            let optional_tool = f.ends_with("scripts/test.sh") && line.contains(&format!("{needle}/tools/module-cycles"));
            if line.contains(&needle) && !optional_tool {
                outside.push(format!("{}:{}: {line}", f.display(), n + 1));
            }
        }
    }
    assert!(outside.is_empty(), "pointers outside the repository:\n{}", outside.join("\n"));
}

#[test]
fn the_readme_says_where_ca_is_and_links_the_docs_that_exist() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(readme.contains("target/release/ca") && readme.contains("cargo install --path ca-cli"), "where `ca` lives");
    for doc in ["docs/PROFILE.md", "docs/CLI.md", "ARCHITECTURE.md", "BENCHMARKS.md", "docs/cabinet.png"] {
        assert!(readme.contains(doc), "the README does not link {doc}");
        assert!(root().join(doc).exists(), "{doc} is linked but missing");
    }
    // The profile document names what the code issues.
    let profile = std::fs::read_to_string(root().join("docs/PROFILE.md")).unwrap();
    for oid in ["1.2.398.3.3.2.1", "1.2.398.3.3.2.4", "1.2.398.3.3.4.1.2.5", "1.2.398.3.10.1.1.2.3.2"] {
        assert!(profile.contains(oid), "docs/PROFILE.md does not name {oid}");
        assert!(std::fs::read_to_string(root().join("pki/src/oid.rs")).unwrap().contains(oid), "{oid} is not in oid.rs");
    }
}
