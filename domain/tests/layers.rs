//! The domain is layered: stores → credentials → policy → use cases. A
//! module may use modules of its own layer or below, never above, and no
//! modules may use each other in a cycle. This test reads `src/` and fails
//! naming the offending import, so a newcomer sees the rule when they break it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Bottom to top. Every module of `src/` must be listed (`lib`, `error` and
/// test support are outside the layers).
const LAYERS: &[(&str, &[&str])] = &[
    (
        "stores and infrastructure",
        &[
            "clock",
            "metrics",
            "keys",
            "crypto",
            "db",
            "events",
            "ceremonies",
            "ratelimit",
            "tokens",
            "sessions",
            "devices",
            "apps",
            "mail",
            "users",
        ],
    ),
    ("credentials", &["budget", "notices", "passwords", "totp", "passkeys", "backup_codes", "factors"]),
    ("policy", &["flows"]),
    ("use cases", &["auth", "signin", "reauth", "recovery", "setup", "profile", "methods", "oidc"]),
];
const OUTSIDE: &[&str] = &["lib", "error", "testing"];

/// Top-level module of each source file (`signin/verify.rs` belongs to `signin`).
fn sources(dir: &Path, top: Option<&str>, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("src is readable").flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_stem().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        if path.is_dir() {
            sources(&path, Some(top.unwrap_or(&name)), out);
        } else if path.file_name().is_some_and(|n| n == "tests.rs") {
            // A folder's `#[cfg(test)] mod tests;` file: test code only.
            continue;
        } else if path.extension().is_some_and(|e| e == "rs") {
            let module = top.map(str::to_owned).unwrap_or(name);
            out.push((module, std::fs::read_to_string(&path).expect("source is readable")));
        }
    }
}

/// The code of a file that is compiled outside tests: without comments and
/// without its `#[cfg(test)]` module (which by convention comes last).
fn production_code(source: &str) -> String {
    let mut kept = Vec::new();
    let mut lines = source.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]" {
            // The test module ends the file; a single test-only item (a `use`) is skipped.
            match lines.next() {
                Some(next) if next.trim_start().starts_with("mod tests") => break,
                _ => continue,
            }
        }
        kept.push(line.split("//").next().unwrap_or_default());
    }
    kept.join("\n")
}

/// The top-level modules `code` uses: `crate::x` paths and `use crate::{x, y::z}` groups.
fn uses(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or_default();
            for item in inner.split(',') {
                let head = item.trim().split("::").next().unwrap_or_default().split_whitespace().next().unwrap_or_default();
                found.insert(head.to_owned());
            }
        } else {
            let head: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            found.insert(head);
        }
    }
    found.retain(|m| modules.contains(m));
    found
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), None, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, source) in &files {
        let mut deps = uses(&production_code(source), &modules);
        deps.remove(module);
        graph.entry(module.clone()).or_default().extend(deps);
    }
    graph
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, ms)| ms.contains(&module))
}

#[test]
fn every_module_is_in_a_layer_and_uses_only_its_own_or_lower_ones() {
    let mut wrong = Vec::new();
    for (module, deps) in graph() {
        if OUTSIDE.contains(&module.as_str()) {
            continue;
        }
        let Some(mine) = layer_of(&module) else {
            wrong.push(format!("`{module}` is in no layer: add it to LAYERS in domain/tests/layers.rs"));
            continue;
        };
        for dep in deps.iter().filter(|d| !OUTSIDE.contains(&d.as_str())) {
            if layer_of(dep).is_some_and(|theirs| theirs > mine) {
                wrong.push(format!(
                    "`{module}` ({}) uses `{dep}` ({}), a layer above it",
                    LAYERS[mine].0,
                    LAYERS[layer_of(dep).unwrap_or(0)].0
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn no_modules_use_each_other_in_a_cycle() {
    let graph = graph();
    // Depth-first search; a module met again while on the path closes a cycle.
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|p| p == m) {
            let mut cycle = path[start..].to_vec();
            cycle.push(m.to_owned());
            return Some(cycle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_owned());
        for dep in graph.get(m).into_iter().flatten().filter(|d| d.as_str() != "testing") {
            if let Some(cycle) = visit(dep, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(m.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for m in graph.keys().filter(|m| m.as_str() != "testing") {
        if let Some(cycle) = visit(m, &graph, &mut Vec::new(), &mut done) {
            panic!("import cycle in domain/src: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn the_reader_finds_imports_in_both_forms() {
    let modules: BTreeSet<String> = ["users", "mail", "flows"].into_iter().map(str::to_owned).collect();
    let code = production_code(
        "use crate::{Ctx, users as accounts, mail::Message};\n// crate::flows is only mentioned\nfn f() { crate::mail::wake(); }\n#[cfg(test)]\nuse crate::flows;\n#[cfg(test)]\nmod tests { use crate::flows; }",
    );
    let found: Vec<String> = uses(&code, &modules).into_iter().collect();
    assert_eq!(found, ["mail", "users"], "comments and test-only code do not count");
}
