//! The disk under the SQLite default fills up. Writes are refused with `STORAGE_FULL`
//! (HTTP 507) and a message an operator can act on, nothing half-written stays behind,
//! reads go on, and once space returns writes succeed again without a restart, and are
//! kept.
//!
//! The data directory is a tmpfs of its own, mounted for the test (the test suite runs
//! as root, as `./test.sh` and CI do), and filled with a file until the kernel says
//! there is no space left: the same `ENOSPC` a full volume gives.

use std::{io::Write, path::PathBuf, process::Command};

use serde_json::{Value, json};
use switchboard_tests::{Backend, TestServer, desk::CREATE};

/// A small tmpfs, unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> SmallDisk {
        let dir = tempfile::Builder::new()
            .prefix("switchboard-small-disk-")
            .tempdir()
            .unwrap();
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("mount runs");
        assert!(
            output.status.success(),
            "this test mounts a small tmpfs to fill, which needs root (as ./test.sh runs): {}",
            String::from_utf8_lossy(&output.stderr)
        );
        SmallDisk {
            path: dir.path().to_path_buf(),
            _dir: dir,
        }
    }

    /// Writes a file until the disk is full; returns its path.
    fn fill(&self) -> PathBuf {
        let path = self.path.join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        for chunk in [1 << 20, 4096, 512, 1] {
            let block = vec![0u8; chunk];
            while file.write_all(&block).is_ok() {}
        }
        let _ = file.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).output();
    }
}

const COUNT: &str = "{ tickets(first: 100) { nodes { number title } } }";

async fn titles(server: &TestServer, token: &str) -> Vec<String> {
    server.must(token, COUNT, Value::Null).await["tickets"]["nodes"]
        .as_array()
        .expect("the page has nodes")
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_clearly_keeps_reads_and_recovers() {
    let disk = SmallDisk::mount(48);
    let data = disk.path.join("data");
    std::fs::create_dir(&data).unwrap();
    let mut server = TestServer::start_with(Backend::Sqlite, |s| {
        s.data_dir = Some(data.display().to_string());
    })
    .await;
    let desk = server.desk().await;
    let agent = &desk.agents[0].token;
    let create = |title: &str| json!({ "input": { "kind": "INCIDENT", "title": title, "groupId": desk.network_group_id } });
    let before = server
        .must(agent, CREATE, create("before the disk filled"))
        .await;
    let number = before["createTicket"]["ticket"]["number"]
        .as_str()
        .unwrap()
        .to_string();

    let filler = disk.fill();

    // A write is refused, saying why, and leaves nothing behind. (A smaller write may
    // still fit in the space the refused one's log frames took, as SQLite reuses it.)
    for title in ["while the disk is full", "still full"] {
        let refused = server.gql(Some(agent), CREATE, create(title)).await;
        assert_eq!(refused.status, 507, "{:#}", refused.body);
        assert_eq!(refused.error_code(), "STORAGE_FULL");
        assert!(
            refused.error_message().contains("storage is full"),
            "{}",
            refused.error_message()
        );
        assert!(refused.body.get("data").is_some(), "{:#}", refused.body);
        assert_eq!(refused.body["data"], Value::Null);
    }
    // Reads go on.
    let seen = titles(&server, agent).await;
    assert_eq!(seen, vec!["before the disk filled".to_string()]);
    let found = server
        .must(
            agent,
            "query($n: String!) { ticket(number: $n) { title } }",
            json!({ "n": number }),
        )
        .await;
    assert_eq!(found["ticket"]["title"], "before the disk filled");

    // Space returns: writes succeed again, with no restart.
    std::fs::remove_file(filler).unwrap();
    let after = server
        .must(agent, CREATE, create("after space returned"))
        .await;
    assert!(after["createTicket"]["ticket"]["number"].is_string());
    let both = ["after space returned", "before the disk filled"].map(String::from);
    assert_eq!(titles(&server, agent).await, both);
    // And it was kept, not left in a transaction only the writer's connection saw: a
    // restarted server reads it from the file. (Before the writer's connection was
    // checked on its way back to the pool, the failed rollback on the full disk left
    // the driver counting a transaction still open, and every write after the disk
    // emptied was acknowledged and never committed.)
    server.restart().await;
    assert_eq!(titles(&server, agent).await, both);
    server.shutdown().await;
}
