//! The web UI's files, embedded in the binary: the page, its stylesheet and
//! its ES modules (`assets/js/`, entered through `main.js`), each served at a
//! fixed path with its content type. There is no build step: the files in
//! `assets/` are what the browser runs. [`ASSETS`] is the one list of what is
//! served, which lets the tests below prove that every file the page links
//! and every module a module imports is in it: a browser refuses a module
//! whose fetch fails or whose type is not JavaScript (`nosniff`), and with
//! it the whole UI.

use axum::Router;
use axum::http::header;
use axum::routing::get;

/// One embedded file, served at `path`.
pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
}

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
/// What browsers require of a module script (and of any script, under `nosniff`).
const JS: &str = "text/javascript; charset=utf-8";

/// A module of the UI, from `assets/js/`, served under `/js/`.
macro_rules! module {
    ($name:literal) => {
        Asset {
            path: concat!("/js/", $name),
            content_type: JS,
            body: include_str!(concat!("../assets/js/", $name)),
        }
    };
}

/// Everything the UI is made of. A new module goes here, or it is not served.
pub static ASSETS: &[Asset] = &[
    Asset {
        path: "/",
        content_type: HTML,
        body: include_str!("../assets/index.html"),
    },
    Asset {
        path: "/style.css",
        content_type: CSS,
        body: include_str!("../assets/style.css"),
    },
    module!("main.js"),
    module!("dom.js"),
    module!("format.js"),
    module!("api.js"),
    module!("shell.js"),
    module!("nav.js"),
    module!("widgets.js"),
    module!("list.js"),
    module!("overview.js"),
    module!("incidents.js"),
    module!("destination.js"),
    module!("detail.js"),
    module!("chart.js"),
    module!("triage.js"),
    module!("allowlist.js"),
    module!("status.js"),
];

/// A route per asset (GET, and HEAD with it), for any router state.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    ASSETS.iter().fold(Router::new(), |router, asset| {
        router.route(
            asset.path,
            get(move || async move { ([(header::CONTENT_TYPE, asset.content_type)], asset.body) }),
        )
    })
}

#[cfg(test)]
mod tests;
