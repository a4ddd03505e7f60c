//! The control protocol: one JSON request per line, one JSON reply per line.
//!
//! Request: an array of strings, the verb and its arguments, exactly as on
//! the command line: `["route","get","--json","203.0.113.2"]`.
//! Reply: `{"ok":true,"output":"..."}` or `{"ok":false,"error":"..."}`.
//! A bad request gets an error reply; the daemon never dies of one.

use via6_lab::json::{self, Json};

/// The largest request line accepted.
pub const MAX_REQUEST: usize = 64 * 1024;

/// Parses a request line into words.
pub fn parse_request(line: &str) -> Result<Vec<String>, String> {
    if line.len() > MAX_REQUEST {
        return Err(format!("request longer than {MAX_REQUEST} bytes"));
    }
    match json::parse(line).map_err(|e| format!("request is not JSON: {e}"))? {
        Json::Arr(items) if !items.is_empty() => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| match v {
                Json::Str(s) => Ok(s),
                other => Err(format!("request[{i}] must be a string, not {}", other.render())),
            })
            .collect(),
        other => Err(format!("request must be a non-empty array of strings, not {}", other.render())),
    }
}

/// A reply line (without the newline).
pub fn reply(result: &Result<String, String>) -> String {
    match result {
        Ok(out) => Json::obj([("ok", Json::Bool(true)), ("output", Json::s(out))]).render(),
        Err(e) => Json::obj([("ok", Json::Bool(false)), ("error", Json::s(e))]).render(),
    }
}

/// A streamed event line (`route monitor`): `{"ok":true,"event":"..."}`.
pub fn event(text: &str) -> String {
    Json::obj([("ok", Json::Bool(true)), ("event", Json::s(text))]).render()
}

/// Parses a reply line.
pub fn parse_reply(line: &str) -> Result<Result<String, String>, String> {
    let Json::Obj(pairs) = json::parse(line)? else { return Err("reply is not an object".into()) };
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v);
    match (get("ok"), get("output"), get("error")) {
        (Some(Json::Bool(true)), Some(Json::Str(o)), _) => Ok(Ok(o.clone())),
        (Some(Json::Bool(true)), None, _) => match get("event") {
            Some(Json::Str(e)) => Ok(Ok(e.clone())),
            _ => Err(format!("malformed reply: {line}")),
        },
        (Some(Json::Bool(false)), _, Some(Json::Str(e))) => Ok(Err(e.clone())),
        _ => Err(format!("malformed reply: {line}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests() {
        assert_eq!(parse_request(r#"["route","get","1.2.3.4"]"#).unwrap(), ["route", "get", "1.2.3.4"]);
        assert!(parse_request("route get").unwrap_err().contains("not JSON"));
        assert!(parse_request("[]").unwrap_err().contains("non-empty"));
        assert!(parse_request("[1]").unwrap_err().contains("request[0]"));
        assert!(parse_request(&format!("[\"{}\"]", "a".repeat(MAX_REQUEST))).is_err());
    }

    #[test]
    fn replies_round_trip() {
        for r in [Ok("a\nb".to_string()), Err("no \"route\"".to_string())] {
            assert_eq!(parse_reply(&reply(&r)).unwrap(), r);
        }
    }
}
