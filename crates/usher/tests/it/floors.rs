//! The floors of `crates/usher/src` (docs/ARCHITECTURE.md): each top-level module sits on one,
//! and imports only modules on lower floors. Features, all on one floor, may use each other;
//! nothing imports the router. Read from the source, so a new `use` that points up fails here
//! with the file and line that does it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Lowest first. A module missing from this list fails the test, so a new one gets a floor.
const FLOORS: &[(&str, &[&str])] = &[
    ("ground", &["clock", "crypto", "text", "files"]),
    ("domain", &["domain"]),
    ("store", &["store"]),
    (
        "shared pieces",
        &["config", "public_url", "ratelimit", "metrics", "ui"],
    ),
    ("state", &["state"]),
    ("web toolkit", &["web"]),
    ("notify", &["notify"]),
    ("provisioning", &["provisioning"]),
    (
        "features",
        &[
            "api_keys",
            "audit",
            "auth",
            "backup",
            "home",
            "invites",
            "members",
            "onboarding",
            "profiles",
            "requests",
            "servers",
            "settings",
            "telegram",
        ],
    ),
    ("top", &["router", "demo", "lib", "main"]),
];

/// The floors on which modules may import their neighbours.
const PEERS: &[&str] = &["features", "top"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to: `invites/public.rs` → `invites`.
fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(src()).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Every `crate::NAME` a line of code names (comments are skipped: a doc link points anywhere).
fn crate_paths(line: &str) -> Vec<String> {
    let code = line.split("//").next().unwrap_or("");
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().last();
        rest = &rest[i + "crate::".len()..];
        // `usher_crate::x` or `$crate::` are not paths into this crate.
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

#[test]
fn every_module_imports_only_from_lower_floors() {
    let floor: BTreeMap<&str, usize> = FLOORS
        .iter()
        .enumerate()
        .flat_map(|(i, (_, mods))| mods.iter().map(move |m| (*m, i)))
        .collect();
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    assert!(files.len() > 50, "the source tree was found");
    let mut wrong = Vec::new();
    for file in &files {
        let from = module_of(file);
        let Some(&mine) = floor.get(from.as_str()) else {
            wrong.push(format!(
                "{from}: on no floor; add it to FLOORS in this test"
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for to in crate_paths(line) {
                if to == from {
                    continue;
                }
                // Items defined in lib.rs itself (`crate::Config`, `crate::shutdown_signal`)
                // are the top floor's.
                let theirs = floor.get(to.as_str()).copied().unwrap_or(FLOORS.len() - 1);
                let allowed = theirs < mine || (theirs == mine && PEERS.contains(&FLOORS[mine].0));
                if !allowed {
                    wrong.push(format!(
                        "{}:{}: {from} ({}) uses crate::{to} ({})",
                        file.strip_prefix(src()).unwrap().display(),
                        n + 1,
                        FLOORS[mine].0,
                        FLOORS[theirs].0,
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that point up:\n{}",
        wrong.join("\n")
    );
}

/// Which top-level modules each one names.
fn module_graph() -> BTreeMap<String, std::collections::BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut graph: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let from = module_of(file);
        let text = std::fs::read_to_string(file).unwrap();
        let uses = graph.entry(from.clone()).or_default();
        for line in text.lines() {
            uses.extend(crate_paths(line).into_iter().filter(|to| *to != from));
        }
    }
    let known: std::collections::BTreeSet<String> = graph.keys().cloned().collect();
    for uses in graph.values_mut() {
        uses.retain(|to| known.contains(to));
    }
    graph
}

/// Features may use each other, but never in a circle: a feature that needs another is above it,
/// so either can be read, changed and tested without the other.
#[test]
fn no_modules_import_each_other_even_through_others() {
    let graph = module_graph();
    let mut circles = Vec::new();
    for start in graph.keys() {
        // Every module reachable from `start`; a circle leads back to it.
        let mut seen = std::collections::BTreeSet::new();
        let mut todo: Vec<&String> = graph[start].iter().collect();
        while let Some(m) = todo.pop() {
            if seen.insert(m.clone()) {
                todo.extend(graph[m].iter());
            }
        }
        if seen.contains(start) {
            let back: Vec<&String> = graph[start]
                .iter()
                .filter(|m| {
                    let mut seen = std::collections::BTreeSet::new();
                    let mut todo = vec![*m];
                    while let Some(x) = todo.pop() {
                        if x == start {
                            return true;
                        }
                        if seen.insert(x.clone()) {
                            todo.extend(graph[x].iter());
                        }
                    }
                    false
                })
                .collect();
            circles.push(format!("{start} → {back:?} → … → {start}"));
        }
    }
    assert!(circles.is_empty(), "circles:\n{}", circles.join("\n"));
}

#[test]
fn the_checker_reads_paths_and_skips_comments() {
    assert_eq!(
        crate_paths("use crate::store::{Store, x}; crate::web::page(a)"),
        ["store", "web"]
    );
    assert!(crate_paths("/// see [`crate::router`]").is_empty());
    assert_eq!(crate_paths("x(); // crate::router"), Vec::<String>::new());
    assert!(crate_paths("$crate::foo").is_empty());
}
