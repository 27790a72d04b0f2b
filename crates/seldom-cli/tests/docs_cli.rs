//! Shell completions and man pages come from the clap definitions: every
//! command is in them, and a folder gets a page per command.

mod common;

#[test]
fn completions_and_man_pages_cover_every_command() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = common::seldom()
            .args(["completions", shell])
            .output()
            .expect("seldom completions");
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        for command in [
            "scan",
            "serve",
            "worker",
            "send",
            "completions",
            "batch-bytes",
        ] {
            assert!(script.contains(command), "{shell}: {command}");
        }
    }
    let out = common::seldom().arg("man").output().expect("seldom man");
    assert!(out.status.success());
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.starts_with(".ie") || page.starts_with(".TH"), "{page}");
    assert!(
        page.contains("seldom\\-send") || page.contains("send"),
        "{page}"
    );

    let dir = tempfile::tempdir().expect("a folder");
    let out = common::seldom()
        .args(["man", "--out"])
        .arg(dir.path().join("man1"))
        .output()
        .expect("seldom man --out");
    assert!(out.status.success());
    for page in [
        "seldom.1",
        "seldom-scan.1",
        "seldom-send.1",
        "seldom-kafka-produce.1",
    ] {
        assert!(dir.path().join("man1").join(page).is_file(), "{page}");
    }
    assert_eq!(
        common::seldom()
            .args(["completions", "tcsh"])
            .output()
            .expect("runs")
            .status
            .code(),
        Some(2)
    );
}
