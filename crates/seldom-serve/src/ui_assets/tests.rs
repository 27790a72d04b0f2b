//! The UI cannot ship with a file missing: every file `index.html` links and
//! every module a module imports is in [`ASSETS`] and answered over HTTP
//! with 200 and the content type a browser requires; every module is
//! reachable from `main.js`, and the imports have no cycle.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::{ASSETS, Asset, CSS, HTML, JS, router};

fn asset(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

/// The content type a file must be served with, by its name.
fn expected_type(path: &str) -> &'static str {
    if path.ends_with(".js") {
        JS
    } else if path.ends_with(".css") {
        CSS
    } else if path == "/" || path.ends_with(".html") {
        HTML
    } else {
        panic!("{path}: no content type known for this kind of file")
    }
}

/// The `src="..."` and `href="..."` values of the page that are not in-page
/// routes (`#/...`). They must be local: the CSP allows nothing else.
fn page_references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in [" src=\"", " href=\""] {
        let mut rest = html;
        while let Some(at) = rest.find(attribute) {
            rest = &rest[at + attribute.len()..];
            let end = rest.find('"').expect("a closed attribute");
            let value = &rest[..end];
            if !value.starts_with('#') {
                assert!(
                    value.starts_with('/') && !value.starts_with("//"),
                    "index.html refers to {value:?}, which is not a file of this server"
                );
                found.push(value.to_owned());
            }
            rest = &rest[end..];
        }
    }
    found
}

/// `./x.js`, `../x.js` or `/x.js`, from the module at `from`.
fn resolve(from: &str, specifier: &str) -> String {
    if specifier.starts_with('/') {
        return specifier.to_owned();
    }
    assert!(
        specifier.starts_with("./") || specifier.starts_with("../"),
        "{from} imports {specifier:?}: a bare specifier, which a browser cannot resolve"
    );
    let mut parts: Vec<&str> = from.split('/').filter(|p| !p.is_empty()).collect();
    parts.pop(); // the importing file itself
    for part in specifier.split('/') {
        match part {
            "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The modules a module imports (static `import ... from '...'` and
/// `export ... from '...'`, one statement per line, as the UI writes them).
fn imports(module: &Asset) -> Vec<String> {
    let mut found = Vec::new();
    for (n, line) in module.body.lines().enumerate() {
        let at = format!("{}:{}", module.path, n + 1);
        let line = line.trim();
        if line.starts_with("//") {
            continue;
        }
        assert!(
            !line.contains("import("),
            "{at}: a dynamic import; import statically, so that this test sees it"
        );
        let statement = line.starts_with("import ")
            || line.starts_with("import{")
            || (line.starts_with("export ") && line.contains(" from "));
        if !statement {
            continue;
        }
        let specifier = match line.rsplit_once(" from ") {
            Some((_, quoted)) => quoted,
            None => line.trim_start_matches("import"), // `import './x.js';`
        };
        let specifier = specifier.trim().trim_end_matches(';').trim();
        let unquoted = specifier
            .strip_prefix('\'')
            .and_then(|s| s.strip_suffix('\''))
            .or_else(|| specifier.strip_prefix('"')?.strip_suffix('"'));
        let Some(unquoted) = unquoted else {
            panic!("{at}: write each import on one line: {line}")
        };
        found.push(resolve(module.path, unquoted));
    }
    found
}

fn modules() -> impl Iterator<Item = &'static Asset> {
    ASSETS.iter().filter(|a| a.content_type == JS)
}

#[test]
fn every_reference_and_import_is_in_the_table_with_its_type() {
    let index = asset("/").expect("the page is served");
    let linked = page_references(index.body);
    assert!(
        linked.iter().any(|p| p == "/js/main.js"),
        "index.html loads no /js/main.js: {linked:?}"
    );
    assert!(
        index
            .body
            .contains(r#"<script type="module" src="/js/main.js"></script>"#),
        "main.js must be loaded as a module"
    );
    for path in &linked {
        let served = asset(path).unwrap_or_else(|| panic!("index.html links {path}: not served"));
        assert_eq!(served.content_type, expected_type(path), "{path}");
    }
    for module in modules() {
        for path in imports(module) {
            let served = asset(&path)
                .unwrap_or_else(|| panic!("{} imports {path}: not served", module.path));
            assert_eq!(served.content_type, JS, "{path}");
        }
    }
}

#[test]
fn the_modules_form_no_cycle_and_all_are_reachable_from_main() {
    let graph: BTreeMap<&str, Vec<String>> = modules().map(|m| (m.path, imports(m))).collect();
    // Depth-first from main.js; a module met again while still on the path is a cycle.
    fn visit<'a>(
        path: &'a str,
        graph: &'a BTreeMap<&str, Vec<String>>,
        on_path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if done.contains(path) {
            return;
        }
        if let Some(start) = on_path.iter().position(|p| *p == path) {
            panic!("import cycle: {} -> {path}", on_path[start..].join(" -> "));
        }
        on_path.push(path);
        for next in graph.get(path).into_iter().flatten() {
            visit(next, graph, on_path, done);
        }
        on_path.pop();
        done.insert(path);
    }
    let mut done = BTreeSet::new();
    visit("/js/main.js", &graph, &mut Vec::new(), &mut done);
    let unreachable: Vec<&str> = graph
        .keys()
        .filter(|m| !done.contains(*m))
        .copied()
        .collect();
    assert!(
        unreachable.is_empty(),
        "shipped but imported by nothing: {unreachable:?}"
    );
}

#[test]
fn the_import_scanner_sees_every_form() {
    let module = Asset {
        path: "/js/a/b.js",
        content_type: JS,
        body: "// import { no } from './comment.js';\n\
               import { x } from './x.js';\n\
               import \"../y.js\";\n\
               export { z } from '/z.js';\n\
               const from = 'not an import';\n",
    };
    assert_eq!(imports(&module), ["/js/a/x.js", "/js/y.js", "/z.js"]);
}

/// Every asset over real HTTP, through the same security headers as the
/// service: 200, its content type, its bytes, and the CSP beside them.
#[test]
fn every_asset_is_served_with_its_content_type() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = router::<()>().layer(axum::middleware::from_fn(crate::guards::security_headers));
    runtime.spawn(async move { axum::serve(listener, app).await });
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into();
    for asset in ASSETS {
        let mut response = agent.get(format!("{base}{}", asset.path)).call().unwrap();
        assert_eq!(response.status(), 200, "{}", asset.path);
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        assert_eq!(
            header("content-type"),
            expected_type(asset.path),
            "{}",
            asset.path
        );
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert!(
            header("content-security-policy").contains("default-src 'self'"),
            "{}",
            asset.path
        );
        let body = response.body_mut().read_to_string().unwrap();
        assert_eq!(body, asset.body, "{}", asset.path);
    }
    // And a file not in the table is not found (the test would see nothing
    // otherwise).
    let response = agent.get(format!("{base}/js/missing.js")).call().unwrap();
    assert_eq!(response.status(), 404);
}
