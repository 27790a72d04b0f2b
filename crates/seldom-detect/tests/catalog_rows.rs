//! Table tests of the built-in catalog: each row, positive and near-miss negative.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

use seldom_detect::catalog::{Catalog, CatalogError, MatchSubject, ProcessView};
use seldom_model::Platform;

/// (image, original file name, command line)
type P = (&'static str, Option<&'static str>, Option<&'static str>);

fn view(p: &P) -> ProcessView<'static> {
    ProcessView {
        image: Some(p.0),
        original_file_name: p.1,
        command_line: p.2,
    }
}

fn classify(platform: Platform, process: P, ancestors: &[P]) -> (String, Vec<String>) {
    let catalog = Catalog::builtin().unwrap();
    let subject = MatchSubject {
        platform,
        process: view(&process),
        ancestors: ancestors.iter().map(view).collect(),
    };
    let m = catalog
        .classify(&subject)
        .expect("the base row matches everything");
    (
        m.variation.id.clone(),
        m.also_matched.iter().map(|v| v.id.clone()).collect(),
    )
}

const EXPLORER: P = ("C:\\Windows\\explorer.exe", None, None);
const CMD: P = ("C:\\Windows\\System32\\cmd.exe", None, None);
const DEVENV: P = (
    "C:\\Program Files\\Microsoft Visual Studio\\2022\\Community\\Common7\\IDE\\devenv.exe",
    None,
    None,
);
const MSBUILD: P = (
    "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\MSBuild.exe",
    Some("MSBuild.exe"),
    None,
);
const WINWORD: P = (
    "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
    None,
    None,
);

#[test]
fn rows_positive_and_near_miss() {
    use Platform::{Linux, Windows};
    let cases: Vec<(&str, Platform, P, Vec<P>, &str)> = vec![
        (
            "msbuild from cmd is High",
            Windows,
            MSBUILD,
            vec![CMD, EXPLORER],
            "msbuild",
        ),
        (
            "msbuild from Visual Studio is Medium",
            Windows,
            MSBUILD,
            vec![DEVENV, EXPLORER],
            "msbuild-dev",
        ),
        (
            "a child of msbuild outside an IDE",
            Windows,
            (
                "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
                None,
                None,
            ),
            vec![MSBUILD, CMD],
            "msbuild",
        ),
        (
            "word starting mshta",
            Windows,
            ("C:\\Windows\\System32\\mshta.exe", None, None),
            vec![WINWORD, EXPLORER],
            "office-lolbin",
        ),
        (
            "word starting a renamed mshta",
            Windows,
            (
                "C:\\Users\\u\\AppData\\Local\\Temp\\update.exe",
                Some("MSHTA.EXE"),
                None,
            ),
            vec![WINWORD],
            "office-lolbin",
        ),
        (
            "word starting cmd starting regsvr32",
            Windows,
            ("C:\\Windows\\System32\\regsvr32.exe", None, None),
            vec![CMD, WINWORD],
            "office-lolbin",
        ),
        (
            "near miss: excel itself connecting",
            Windows,
            (
                "C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE",
                None,
                None,
            ),
            vec![EXPLORER],
            "rare-external-host",
        ),
        (
            "near miss: mshta without office",
            Windows,
            ("C:\\Windows\\System32\\mshta.exe", None, None),
            vec![CMD, EXPLORER],
            "rare-external-host",
        ),
        (
            "curl on windows",
            Windows,
            ("C:\\Windows\\System32\\curl.exe", None, None),
            vec![CMD],
            "curl",
        ),
        (
            "curl on linux is curl, not unix-lolbin",
            Linux,
            ("/usr/bin/curl", None, None),
            vec![("/bin/bash", None, None)],
            "curl",
        ),
        (
            "vs code extension host child",
            Windows,
            (
                "C:\\Users\\u\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe",
                None,
                Some("\"Code.exe\" --type=extensionHost"),
            ),
            vec![],
            "vscode-extension",
        ),
        (
            "process under an extension folder",
            Linux,
            (
                "/home/u/.vscode-server/extensions/evil-1.0/bin/agent",
                None,
                None,
            ),
            vec![],
            "vscode-extension",
        ),
        (
            "descendant of the extension host",
            Windows,
            ("C:\\Windows\\System32\\cmd.exe", None, None),
            vec![("C:\\Code.exe", None, Some("Code.exe --type=extensionHost"))],
            "vscode-extension",
        ),
        (
            "near miss: plain vs code window",
            Windows,
            ("C:\\Code.exe", None, Some("Code.exe --type=renderer")),
            vec![],
            "rare-external-host",
        ),
        ("bash", Linux, ("bash", None, None), vec![], "unix-lolbin"),
        (
            "/bin/bash",
            Linux,
            ("/bin/bash", None, None),
            vec![],
            "unix-lolbin",
        ),
        (
            "python3.11",
            Linux,
            ("/usr/bin/python3.11", None, None),
            vec![],
            "unix-lolbin",
        ),
        (
            "near miss: bash on windows",
            Windows,
            ("C:\\Windows\\System32\\bash.exe", None, None),
            vec![],
            "rare-external-host",
        ),
        (
            "near miss: unknown process",
            Linux,
            ("<unknown process>", None, None),
            vec![],
            "rare-external-host",
        ),
        (
            "near miss: a service",
            Windows,
            ("C:\\Windows\\System32\\svchost.exe", None, None),
            vec![],
            "rare-external-host",
        ),
        (
            "a network sensor's connection",
            Platform::Network,
            ("<unknown process>", None, None),
            vec![],
            "host-rare-external-host",
        ),
    ];
    for (what, platform, process, ancestors, expected) in cases {
        let (winner, also) = classify(platform, process, &ancestors);
        assert_eq!(winner, expected, "{what}");
        if expected != "rare-external-host" && expected != "host-rare-external-host" {
            assert!(
                also.contains(&"rare-external-host".to_owned()),
                "{what}: also matched {also:?}"
            );
        }
    }
}

#[test]
fn msbuild_high_row_also_lists_nothing_of_the_dev_row() {
    let (winner, also) = classify(Platform::Windows, MSBUILD, &[CMD]);
    assert_eq!(winner, "msbuild");
    assert!(!also.contains(&"msbuild-dev".to_owned()));
}

#[test]
fn every_row_carries_its_analyst_text() {
    let catalog = Catalog::builtin().unwrap();
    let ids: Vec<&str> = catalog.variations().iter().map(|v| v.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "rare-external-host",
            "host-rare-external-host",
            "msbuild",
            "msbuild-dev",
            "office-lolbin",
            "curl",
            "vscode-extension",
            "unix-lolbin"
        ]
    );
    for v in catalog.variations() {
        assert!(
            !v.attack.is_empty()
                && !v.description.is_empty()
                && !v.investigative_actions.is_empty(),
            "{}",
            v.id
        );
    }
    for list in catalog.file().lists.values() {
        assert!(!list.source.is_empty());
    }
}

#[test]
fn bad_catalogs_are_rejected_naming_the_problem() {
    let unknown_field =
        Catalog::builtin_text().replace("specificity = 0", "specificity = 0\nsevrity = \"high\"");
    let err = Catalog::from_toml(&unknown_field).unwrap_err().to_string();
    assert!(err.contains("sevrity"), "{err}");

    let unknown_list =
        Catalog::builtin_text().replace("process_in = \"curl\"", "process_in = \"curls\"");
    assert!(matches!(
        Catalog::from_toml(&unknown_list),
        Err(CatalogError::UnknownList { .. })
    ));

    let duplicate = Catalog::builtin_text().replace("id = \"curl\"", "id = \"msbuild\"");
    assert!(
        matches!(Catalog::from_toml(&duplicate), Err(CatalogError::DuplicateId(id)) if id == "msbuild")
    );

    let bad_severity =
        Catalog::builtin_text().replace("severity = \"low\"", "severity = \"urgent\"");
    assert!(
        Catalog::from_toml(&bad_severity)
            .unwrap_err()
            .to_string()
            .contains("urgent")
    );
}
