//! The control client: sends one request to a daemon's control socket and
//! returns its reply.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;
use via6_lab::json::Json;

/// Sends `words` to the daemon at `socket`; returns its output or error text.
pub fn request(socket: &Path, words: &[String]) -> Result<String, String> {
    let mut s = UnixStream::connect(socket).map_err(|e| {
        format!("cannot reach the daemon at {}: {e} (is `via6 up` running?)", socket.display())
    })?;
    s.set_read_timeout(Some(Duration::from_secs(120))).map_err(|e| e.to_string())?;
    let line = Json::Arr(words.iter().map(Json::s).collect()).render();
    s.write_all(line.as_bytes()).and_then(|_| s.write_all(b"\n")).map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(&s);
    if words == ["route", "monitor"] {
        // Print each change as it comes, until the daemon goes away.
        s.set_read_timeout(None).map_err(|e| e.to_string())?;
        let mut line = String::new();
        while reader.read_line(&mut line).map_err(|e| e.to_string())? > 0 {
            println!("{}\n", crate::control::parse_reply(line.trim_end())??);
            line.clear();
        }
        return Ok(String::new());
    }
    let mut reply = String::new();
    reader.read_line(&mut reply).map_err(|e| format!("reading the reply: {e}"))?;
    crate::control::parse_reply(reply.trim_end())?
}
