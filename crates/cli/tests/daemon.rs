//! `via6 up` and its control socket: bad requests get error replies and never
//! kill the daemon; concurrent clients are served; SIGTERM shuts it down
//! cleanly (the socket file is removed). A loopback-only node needs no TAP
//! device and no root.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Daemon {
    child: Child,
    socket: PathBuf,
    dir: PathBuf,
}

impl Daemon {
    fn start(tag: &str) -> Daemon {
        let dir = std::env::temp_dir().join(format!("via6-daemon-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cfg = dir.join("n.toml");
        std::fs::write(
            &cfg,
            "[node]\nname = \"n\"\n[[interface]]\nname = \"lo0\"\nkind = \"loopback\"\naddresses = [\"192.0.2.1/32\", \"2001:db8::1/128\"]\n",
        )
        .unwrap();
        let socket = dir.join("n.sock");
        let child = Command::new(env!("CARGO_BIN_EXE_via6"))
            .args(["-c", cfg.to_str().unwrap(), "up", "--control", socket.to_str().unwrap()])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        while !socket.exists() {
            assert!(t0.elapsed() < Duration::from_secs(10), "daemon did not create its socket");
            std::thread::sleep(Duration::from_millis(20));
        }
        Daemon { child, socket, dir }
    }

    fn raw(&self, line: &[u8]) -> String {
        let mut s = UnixStream::connect(&self.socket).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(line).unwrap();
        let mut reply = String::new();
        BufReader::new(&s).read_line(&mut reply).unwrap();
        reply
    }

    fn cli(&self, args: &[&str]) -> (i32, String, String) {
        let out =
            Command::new(env!("CARGO_BIN_EXE_via6")).arg("-N").arg(&self.socket).args(args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into(),
            String::from_utf8_lossy(&out.stderr).into(),
        )
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn alive(d: &Daemon) {
    let (code, out, err) = d.cli(&["netstat", "-rn"]);
    assert_eq!(code, 0, "daemon stopped answering: {err}");
    assert!(out.contains("Routing tables"), "{out}");
}

#[test]
fn bad_requests_get_error_replies_and_the_daemon_survives() {
    let d = Daemon::start("bad");
    let cases: &[(&[u8], &str)] = &[
        (b"route get\n", "not JSON"),
        (b"[]\n", "non-empty array"),
        (b"[1,2]\n", "request[0]"),
        (b"{\"verb\":\"route\"}\n", "array of strings"),
        (b"[\"frobnicate\"]\n", "unknown verb"),
        (b"[\"route\",\"get\",\"not-an-address\"]\n", "not-an-address"),
        (b"[\"sysctl\",\"net.inet6.ip6.forwarding=7\"]\n", "out of range"),
        (b"[\"route\",\"add\",\"-net\",\"203.0.113.0/24\",\"-inet6\",\"fe80::1\"]\n", "zone"),
        (b"[\"\\ud800\"]\n", "unknown verb"),
    ];
    for (req, needle) in cases {
        let reply = d.raw(req);
        assert!(reply.starts_with("{\"ok\":false"), "{}: {reply}", String::from_utf8_lossy(req));
        assert!(reply.contains(needle), "{}: `{reply}` lacks `{needle}`", String::from_utf8_lossy(req));
        alive(&d);
    }
    // An over-long line is refused and its connection closed.
    let mut s = UnixStream::connect(&d.socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = s.write_all(&vec![b'['; 200_000]);
    let mut reply = String::new();
    let _ = s.read_to_string(&mut reply);
    assert!(reply.contains("longer than"), "{reply}");
    // A client that connects and goes away, or sends binary garbage.
    drop(UnixStream::connect(&d.socket).unwrap());
    let reply = d.raw(&[0xff, 0xfe, 0x00, b'\n']);
    assert!(reply.contains("\"ok\":false"), "{reply}");
    alive(&d);
}

#[test]
fn concurrent_clients_are_served() {
    let d = Daemon::start("conc");
    let socket = d.socket.clone();
    let threads: Vec<_> = (0..16)
        .map(|i| {
            let socket = socket.clone();
            std::thread::spawn(move || {
                for j in 0..20 {
                    let mut s = UnixStream::connect(&socket).unwrap();
                    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                    let req = if (i + j) % 2 == 0 {
                        "[\"route\",\"get\",\"--json\",\"192.0.2.1\"]\n"
                    } else {
                        "[\"sysctl\",\"net.inet6.ip6.hlim\"]\n"
                    };
                    s.write_all(req.as_bytes()).unwrap();
                    let mut reply = String::new();
                    BufReader::new(&s).read_line(&mut reply).unwrap();
                    assert!(reply.starts_with("{\"ok\":true"), "{reply}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // Several requests on one connection.
    let mut s = UnixStream::connect(&d.socket).unwrap();
    s.write_all(b"[\"sysctl\",\"net.inet.ip.ttl\"]\n[\"bogus\"]\n[\"ip\",\"route\",\"show\"]\n").unwrap();
    let mut r = BufReader::new(&s);
    let mut lines = Vec::new();
    for _ in 0..3 {
        let mut l = String::new();
        r.read_line(&mut l).unwrap();
        lines.push(l);
    }
    assert!(lines[0].contains("net.inet.ip.ttl: 64"));
    assert!(lines[1].contains("\"ok\":false"));
    assert!(lines[2].contains("\"ok\":true"));
}

#[test]
fn sigterm_shuts_down_cleanly() {
    let mut d = Daemon::start("term");
    let (code, out, _) = d.cli(&["ping", "-c", "2", "192.0.2.1"]);
    assert_eq!(code, 0);
    assert!(out.contains("2 packets received"), "{out}");
    let status = Command::new("kill").args(["-TERM", &d.child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let t0 = Instant::now();
    loop {
        if let Some(st) = d.child.try_wait().unwrap() {
            assert!(st.success(), "daemon exited with {st}");
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "daemon ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!Path::new(&d.socket).exists(), "control socket left behind");
    let mut err = String::new();
    d.child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(err.contains("node n down"), "{err}");
}

#[test]
fn route_monitor_streams_changes() {
    let d = Daemon::start("mon");
    let mut s = UnixStream::connect(&d.socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"[\"route\",\"monitor\"]\n").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let (code, _, err) = d.cli(&["route", "add", "-net", "198.51.100.0/24", "-interface", "lo0"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = d.cli(&["route", "delete", "198.51.100.0/24"]);
    assert_eq!(code, 0, "{err}");
    let mut r = BufReader::new(&s);
    let (mut add, mut del) = (String::new(), String::new());
    r.read_line(&mut add).unwrap();
    r.read_line(&mut del).unwrap();
    assert!(add.contains("RTM_ADD") && add.contains("198.51.100.0/24"), "{add}");
    assert!(del.contains("RTM_DELETE") && del.contains("198.51.100.0/24"), "{del}");
}

/// Idle control clients cannot hold every descriptor: past 64 open
/// connections a new one is told so and closed, the daemon keeps serving,
/// and a slot frees when a client leaves.
#[test]
fn control_connections_are_bounded() {
    let d = Daemon::start("bounded");
    let mut idle: Vec<UnixStream> = (0..64).map(|_| UnixStream::connect(&d.socket).unwrap()).collect();
    // The 64 are all being served (a request on the last one gets a reply).
    let last = idle.last_mut().unwrap();
    last.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    last.write_all(b"[\"sysctl\",\"net.inet.ip.ttl\"]\n").unwrap();
    let mut reply = String::new();
    BufReader::new(&*last).read_line(&mut reply).unwrap();
    assert!(reply.contains("\"ok\":true"), "{reply}");
    let mut extra = UnixStream::connect(&d.socket).unwrap();
    extra.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut refused = String::new();
    BufReader::new(&extra).read_line(&mut refused).unwrap();
    assert!(refused.contains("too many control connections"), "{refused}");
    let mut rest = Vec::new();
    assert_eq!(extra.read_to_end(&mut rest).unwrap(), 0, "the refused connection is closed");
    drop(idle.pop());
    let t0 = Instant::now();
    loop {
        let r = d.raw(b"[\"sysctl\",\"net.inet.ip.ttl\"]\n");
        if r.contains("\"ok\":true") {
            break;
        }
        assert!(r.contains("too many"), "{r}");
        assert!(t0.elapsed() < Duration::from_secs(10), "the slot was never freed");
        std::thread::sleep(Duration::from_millis(20));
    }
}
