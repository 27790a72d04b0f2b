//! `seldom worker` and `seldom kafka produce` refuse a bad `[kafka]` section
//! before they connect to anything, naming the field.

use assert_cmd::Command;

fn refused(config: &str) -> String {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("seldom.toml");
    std::fs::write(&path, config).expect("writing the config");
    let mut failures = Vec::new();
    for args in [&["worker"][..], &["kafka", "produce"][..]] {
        let output = Command::cargo_bin("seldom")
            .expect("the binary")
            .args(args)
            .arg("--config")
            .arg(&path)
            .args(if args[0] == "kafka" {
                &["x.jsonl"][..]
            } else {
                &[][..]
            })
            .timeout(std::time::Duration::from_secs(20))
            .output()
            .expect("running seldom");
        assert_eq!(output.status.code(), Some(2), "{args:?} refuses {config:?}");
        failures.push(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    assert_eq!(
        failures[0], failures[1],
        "both commands give the same answer"
    );
    failures.remove(0)
}

#[test]
fn a_bad_kafka_section_is_refused_naming_the_field() {
    assert!(refused("[kafka]\npartitions = 0\n").contains("kafka.partitions"));
    assert!(refused("[kafka]\nbootstrap = \" \"\n").contains("kafka.bootstrap"));
    assert!(
        refused("[kafka.topics]\nby_key = \"seldom.by-host\"\n").contains("kafka.topics.by_key")
    );
    assert!(refused("[kafka.topics]\nalerts = \"a/b\"\n").contains("kafka.topics.alerts"));
    let protected = refused("[kafka.properties]\n\"isolation.level\" = \"read_uncommitted\"\n");
    assert!(protected.contains("isolation.level"), "{protected}");
    assert!(refused("[kafka]\npartition = 6\n").contains("partition"));
}
