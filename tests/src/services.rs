//! Throwaway PostgreSQL and Redis servers, started by the harness itself.
//!
//! Each runs under a small shell watchdog that holds our end of a pipe: when the test
//! process ends, however it ends, the pipe closes and the watchdog stops the server.

use std::{
    io::Write,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Command, Stdio},
    sync::{
        Mutex, OnceLock,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, Instant},
};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("no free port")
        .local_addr()
        .unwrap()
        .port()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false)
}

/// A process kept alive while we hold its stdin. Writing a line stops it (a pause);
/// when the test process ends, however it ends, stdin closes: the process is stopped
/// and `at_exit` runs (it removes what the process leaves on disk).
pub(crate) struct Watched {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Watched {
    fn spawn(program: &str, args: &[&str], script: &str, at_exit: &str) -> Watched {
        Watched::spawn_stopped_by("INT", program, args, script, at_exit)
    }

    /// As `spawn`, stopping the process with another signal. A process started in the
    /// background of a shell script ignores SIGINT unless it sets its own handler, as
    /// the database servers do and chromedriver does not.
    pub(crate) fn spawn_stopped_by(
        signal: &str,
        program: &str,
        args: &[&str],
        script: &str,
        at_exit: &str,
    ) -> Watched {
        let mut child = Command::new(program)
            .args(args)
            .arg("sh")
            .arg("-c")
            .arg(format!(
                "{script} & pid=$!; if read _pause; then kill -{signal} $pid; wait $pid; \
                 else kill -{signal} $pid; wait $pid; {at_exit}; fi"
            ))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        let stdin = child.stdin.take();
        Watched { child, stdin }
    }

    fn stop(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(b"stop\n");
        }
        let _ = self.child.wait();
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        self.stop();
    }
}

pub(crate) fn wait_until(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(
            start.elapsed() < timeout,
            "{what} did not become ready within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn postgres_bin_dir() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .filter(|p| p.join("postgres").exists())
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL is not installed, and these tests need it: run `sudo apt-get install -y postgresql` \
             (the README's test command, ./test.sh, installs it for you)"
        )
    })
}

/// A PostgreSQL cluster in a temporary directory, on its own port.
pub struct Postgres {
    pub port: u16,
    dir: tempfile::TempDir,
    bin: PathBuf,
    as_postgres_user: bool,
    server: Mutex<Option<Watched>>,
    databases: AtomicU32,
}

impl Postgres {
    pub fn start() -> Postgres {
        let bin = postgres_bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("switchboard-pg-")
            .tempdir()
            .expect("no temp dir");
        let as_postgres_user = is_root();
        if as_postgres_user {
            // PostgreSQL refuses to run as root: its files must belong to `postgres`.
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(
                status.success(),
                "cannot hand {} to the postgres user",
                dir.path().display()
            );
        }
        let data = dir.path().join("data");
        let initdb = bin.join("initdb");
        let mut command = if as_postgres_user {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&initdb);
            c
        } else {
            Command::new(&initdb)
        };
        let output = command
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
                "-D",
            ])
            .arg(&data)
            .output()
            .expect("cannot run initdb");
        assert!(
            output.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let pg = Postgres {
            port: free_port(),
            dir,
            bin,
            as_postgres_user,
            server: Mutex::new(None),
            databases: AtomicU32::new(0),
        };
        pg.resume();
        pg
    }

    /// One cluster shared by every test in this test binary; each test gets its own database.
    pub fn shared() -> &'static Postgres {
        static SHARED: OnceLock<Postgres> = OnceLock::new();
        SHARED.get_or_init(Postgres::start)
    }

    fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// A program of this PostgreSQL installation, e.g. `pgbench`.
    pub fn tool(&self, name: &str) -> PathBuf {
        self.bin.join(name)
    }

    /// Starts (or starts again) the server on the same port and data.
    pub fn resume(&self) {
        let script = format!(
            "exec {} -D {} -p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
            self.bin.join("postgres").display(),
            self.dir.path().join("data").display(),
            self.port,
            self.socket_dir().display(),
        );
        let script = format!("({script})");
        // Each test binary's cluster is some 200 MB: gone with the binary's process.
        let at_exit = format!("rm -rf {}", self.dir.path().display());
        let watched = if self.as_postgres_user {
            Watched::spawn("runuser", &["-u", "postgres", "--"], &script, &at_exit)
        } else {
            Watched::spawn("env", &[], &script, &at_exit)
        };
        *self.server.lock().unwrap() = Some(watched);
        let isready = self.bin.join("pg_isready");
        wait_until("PostgreSQL", Duration::from_secs(30), || {
            Command::new(&isready)
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                .status()
                .is_ok_and(|s| s.success())
        });
    }

    /// Stops the server (a fast shutdown), keeping its data for `resume`.
    pub fn pause(&self) {
        if let Some(mut server) = self.server.lock().unwrap().take() {
            server.stop();
        }
    }

    pub fn psql(&self, database: &str, sql: &str) -> String {
        let output = Command::new(self.bin.join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                database,
            ])
            .args(["-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql])
            .output()
            .expect("cannot run psql");
        assert!(
            output.status.success(),
            "psql failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// A new empty database, and its URL.
    pub fn create_database(&self) -> (String, String) {
        let n = self.databases.fetch_add(1, Ordering::SeqCst);
        let name = format!("t{}_{n}", std::process::id());
        self.psql("postgres", &format!("CREATE DATABASE {name}"));
        let url = format!("postgres://postgres@127.0.0.1:{}/{name}", self.port);
        (name, url)
    }
}

/// A Redis server on its own port, keeping nothing on disk.
pub struct Redis {
    pub port: u16,
    server: Mutex<Option<Watched>>,
}

impl Redis {
    pub fn start() -> Redis {
        let found = Command::new("redis-server")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "redis-server is not installed, and these tests need it: run `sudo apt-get install -y redis-server` \
             (the README's test command, ./test.sh, installs it for you)"
        );
        let redis = Redis {
            port: free_port(),
            server: Mutex::new(None),
        };
        redis.resume();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn resume(&self) {
        let script = format!(
            "exec redis-server --port {} --bind 127.0.0.1 --save '' --appendonly no --daemonize no",
            self.port
        );
        *self.server.lock().unwrap() =
            Some(Watched::spawn("env", &[], &format!("({script})"), "true"));
        let port = self.port;
        wait_until("Redis", Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
    }

    pub fn pause(&self) {
        if let Some(mut server) = self.server.lock().unwrap().take() {
            server.stop();
        }
    }
}

/// A Dovecot IMAP server with one mailbox (`desk`, password `secret`), in a temporary
/// directory, with mail delivered straight into its Maildir as a mail server would.
pub struct Dovecot {
    pub port: u16,
    dir: tempfile::TempDir,
    server: Mutex<Option<Watched>>,
}

impl Dovecot {
    pub fn start() -> Dovecot {
        assert!(
            Path::new("/usr/sbin/dovecot").exists(),
            "dovecot is not installed, and these tests need it: run `sudo apt-get install -y dovecot-imapd` \
             (the README's test command, ./test.sh, installs it for you)"
        );
        let dir = tempfile::Builder::new()
            .prefix("switchboard-dovecot-")
            .tempdir()
            .unwrap();
        let port = free_port();
        let root = dir.path().display().to_string();
        for sub in [
            "run",
            "state",
            "mail/desk/new",
            "mail/desk/cur",
            "mail/desk/tmp",
        ] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let id = |flag: &str, name: &str| {
            let out = Command::new("id").args([flag, name]).output().unwrap();
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        let me = |flag: &str| {
            let out = Command::new("id").arg(flag).output().unwrap();
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        // As root, Dovecot drops to its own users and reads mail as `nobody`; as a plain
        // user it runs everything as that user.
        // A plain user cannot chroot the login processes.
        let (chroot, anvil) = if is_root() {
            ("", "")
        } else {
            ("  chroot =\n", "service anvil {\n  chroot =\n}\n")
        };
        let (uid, gid, users) = if is_root() {
            (id("-u", "nobody"), id("-g", "nobody"), String::new())
        } else {
            let name = me("-un");
            (
                me("-u"),
                me("-g"),
                format!(
                    "default_internal_user = {name}\ndefault_login_user = {name}\ndefault_internal_group = {}\n",
                    me("-gn")
                ),
            )
        };
        let config = format!(
            "protocols = imap\nlisten = 127.0.0.1\nbase_dir = {root}/run\nstate_dir = {root}/state\n\
             log_path = {root}/dovecot.log\nssl = no\ndisable_plaintext_auth = no\n\
             auth_mechanisms = plain login\nmail_location = maildir:{root}/mail/%u\n\
             first_valid_uid = 1\nfirst_valid_gid = 0\n{users}\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {root}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = uid={uid} gid={gid} home={root}/mail/%u\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    port = {port}\n  }}\n  inet_listener imaps {{\n    port = 0\n  }}\n{chroot}}}\n\
             {anvil}"
        );
        std::fs::write(dir.path().join("dovecot.conf"), config).unwrap();
        std::fs::write(dir.path().join("passwd"), "desk:{PLAIN}secret\n").unwrap();
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", &format!("{uid}:{gid}"), &format!("{root}/mail")])
                .status()
                .unwrap();
            assert!(status.success());
        }
        let dovecot = Dovecot {
            port,
            dir,
            server: Mutex::new(None),
        };
        dovecot.resume();
        dovecot
    }

    /// The URL the desk fetches from.
    pub fn url(&self) -> String {
        format!("imap://desk:secret@127.0.0.1:{}/INBOX", self.port)
    }

    /// Delivers a message into the mailbox (as an MDA does: into `new/`).
    pub fn deliver(&self, message: &str) {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "{}.{}.switchboard-test",
            chrono::Utc::now().timestamp_micros(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let tmp = self.dir.path().join("mail/desk/tmp").join(&name);
        std::fs::write(&tmp, message.replace("\r\n", "\n")).unwrap();
        if is_root() {
            Command::new("chown")
                .args(["nobody:", &tmp.display().to_string()])
                .status()
                .unwrap();
        }
        std::fs::rename(&tmp, self.dir.path().join("mail/desk/new").join(&name)).unwrap();
    }

    /// How many delivered messages the server has not yet moved out of `new/`.
    pub fn unread_files(&self) -> usize {
        std::fs::read_dir(self.dir.path().join("mail/desk/new"))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    pub fn resume(&self) {
        let conf = self.dir.path().join("dovecot.conf").display().to_string();
        let script = format!("exec /usr/sbin/dovecot -F -c {conf}");
        *self.server.lock().unwrap() =
            Some(Watched::spawn("env", &[], &format!("({script})"), "true"));
        let port = self.port;
        wait_until("Dovecot", Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
    }

    pub fn pause(&self) {
        if let Some(mut server) = self.server.lock().unwrap().take() {
            server.stop();
        }
        let port = self.port;
        wait_until("Dovecot to stop", Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
        });
    }
}

/// An SMTP server (Python's aiosmtpd, from Debian's `python3-aiosmtpd`) on its own port,
/// keeping every message it accepts in a Maildir, with the envelope's recipients in
/// `X-RcptTo`.
pub struct Smtp {
    pub port: u16,
    dir: tempfile::TempDir,
    server: Mutex<Option<Watched>>,
}

impl Smtp {
    pub fn start() -> Smtp {
        let found = Command::new("/usr/bin/python3")
            .args(["-c", "import aiosmtpd"])
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "aiosmtpd is not installed, and these tests need it: run `sudo apt-get install -y python3-aiosmtpd` \
             (the README's test command, ./test.sh, installs it for you)"
        );
        let dir = tempfile::Builder::new()
            .prefix("switchboard-smtp-")
            .tempdir()
            .unwrap();
        let smtp = Smtp {
            port: free_port(),
            dir,
            server: Mutex::new(None),
        };
        smtp.resume();
        smtp
    }

    /// The URL the desk sends through.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message accepted so far, as received.
    pub fn messages(&self) -> Vec<String> {
        let mut found = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.dir.path().join("mail").join(sub)) else {
                continue;
            };
            let mut paths: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
            paths.sort();
            for path in paths {
                if let Ok(text) = std::fs::read_to_string(&path) {
                    found.push(text);
                }
            }
        }
        found
    }

    /// Waits until a message for `to` whose text contains `needle` arrives, and
    /// returns it.
    pub fn wait_for(&self, to: &str, needle: &str, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            if let Some(found) = self
                .messages()
                .into_iter()
                .find(|m| header(m, "X-RcptTo").contains(to) && m.contains(needle))
            {
                return found;
            }
            assert!(
                start.elapsed() < timeout,
                "no message to {to} with '{needle}' within {timeout:?}; received: {:#?}",
                self.messages()
                    .iter()
                    .map(|m| (header(m, "X-RcptTo"), header(m, "Subject")))
                    .collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn resume(&self) {
        let mail = self.dir.path().join("mail").display().to_string();
        let script = format!(
            "exec /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:{} -c aiosmtpd.handlers.Mailbox {mail}",
            self.port
        );
        *self.server.lock().unwrap() =
            Some(Watched::spawn("env", &[], &format!("({script})"), "true"));
        let port = self.port;
        wait_until("the SMTP server", Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
    }

    pub fn pause(&self) {
        if let Some(mut server) = self.server.lock().unwrap().take() {
            server.stop();
        }
        let port = self.port;
        wait_until("the SMTP server to stop", Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
        });
    }
}

/// A header's value in a raw message (unfolded), or "" when it has none.
pub fn header(message: &str, name: &str) -> String {
    let head = message
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .replace("\r\n", "\n")
        .replace("\n ", " ")
        .replace("\n\t", " ");
    head.lines()
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_string())
        })
        .unwrap_or_default()
}

/// A Prometheus Alertmanager (Debian's `prometheus-alertmanager`) whose one receiver
/// posts every group, firing and resolved, to the desk's intake with `token`. Alerts
/// are grouped by their `ci` label and sent a second after they change.
pub struct Alertmanager {
    pub port: u16,
    _dir: tempfile::TempDir,
    _server: Watched,
}

impl Alertmanager {
    pub fn start(intake_url: &str, token: &str) -> Alertmanager {
        let binary = "/usr/bin/prometheus-alertmanager";
        assert!(
            Path::new(binary).exists(),
            "Alertmanager is not installed, and these tests need it: run `apt-get install -y prometheus-alertmanager` \
             (the README's test command, ./test.sh, installs it for you)"
        );
        let dir = tempfile::Builder::new()
            .prefix("switchboard-alertmanager-")
            .tempdir()
            .unwrap();
        let config = dir.path().join("alertmanager.yml");
        std::fs::write(
            &config,
            format!(
                "route:\n  receiver: desk\n  group_by: ['ci']\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
                 receivers:\n  - name: desk\n    webhook_configs:\n      - url: '{intake_url}'\n        send_resolved: true\n        \
                 http_config:\n          authorization:\n            credentials: '{token}'\n"
            ),
        )
        .unwrap();
        let port = free_port();
        let script = format!(
            "exec {binary} --config.file={} --storage.path={} --web.listen-address=127.0.0.1:{port} --cluster.listen-address= --log.level=warn",
            config.display(),
            dir.path().join("data").display()
        );
        let server = Watched::spawn("env", &[], &format!("({script})"), "true");
        wait_until("Alertmanager", Duration::from_secs(20), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Alertmanager {
            port,
            _dir: dir,
            _server: server,
        }
    }

    /// Where its API answers: `POST {url}/api/v2/alerts` takes alerts as Prometheus
    /// sends them.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}
