//! Rest.li 2.0 query encoding, as LinkedIn's Marketing API expects it.
//!
//! A list is `List(a,b)`, an object `(k1:v1,k2:v2)`, and leaf strings are percent-encoded with no
//! safe characters except RFC 3986's unreserved ones, so the structure characters `( ) , :` stay
//! unambiguous. The empty string is `''` (an empty leaf would be ambiguous). The `fields=`
//! projection is the one query parameter that is not Rest.li-encoded.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde_json::{Map, Value};

/// Everything but alphanumerics and `-._~` is percent-encoded (uppercase hex).
const LEAF: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// How Rest.li 2.0 spells the empty string.
const EMPTY_STRING: &str = "''";

/// The projection parameter, sent as written (`fields=id,name`), never encoded.
const PROJECTION: &str = "fields";

/// Encodes a JSON value in Rest.li 2.0 URL form.
pub fn encode(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, &mut out);
    out
}

/// Encodes query parameters as `key=value&...`: keys percent-encoded, values Rest.li-encoded
/// (except a `fields` projection given as a string, which is sent as is).
pub fn encode_query(params: &[(&str, Value)]) -> String {
    params
        .iter()
        .map(|(key, value)| match value {
            Value::String(projection) if *key == PROJECTION => {
                format!("{PROJECTION}={projection}")
            }
            _ => format!("{}={}", encode_leaf(key), encode(value)),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn encode_leaf(text: &str) -> String {
    if text.is_empty() {
        EMPTY_STRING.to_owned()
    } else {
        utf8_percent_encode(text, LEAF).to_string()
    }
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        // Rest.li has no null; the closest leaf is the empty string.
        Value::Null => out.push_str(EMPTY_STRING),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(&encode_leaf(s)),
        Value::Array(items) => {
            out.push_str("List(");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(')');
        }
        Value::Object(map) => {
            out.push('(');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&encode_leaf(key));
                out.push(':');
                write_value(item, out);
            }
            out.push(')');
        }
    }
}

/// Decodes one Rest.li 2.0 value. Leaves come back as JSON strings (Rest.li carries no types in
/// the URL); lists as arrays, objects as objects.
pub fn decode(text: &str) -> Result<Value, String> {
    let mut parser = Parser { text, pos: 0 };
    let value = parser.value()?;
    if parser.pos != text.len() {
        return Err(parser.error("unexpected character"));
    }
    Ok(value)
}

/// Decodes a query string (`key=value&...`, without the leading `?`). Keys are percent-decoded,
/// values Rest.li-decoded; `fields` is returned verbatim as a string. Empty segments are skipped;
/// a key given twice is an error (Rest.li has lists for that).
pub fn decode_query(query: &str) -> Result<Vec<(String, Value)>, String> {
    let mut params: Vec<(String, Value)> = Vec::new();
    for segment in query.split('&').filter(|s| !s.is_empty()) {
        let (raw_key, raw_value) = segment.split_once('=').unwrap_or((segment, ""));
        let key = percent_decode(raw_key).map_err(|e| format!("query key {raw_key:?}: {e}"))?;
        if key.is_empty() {
            return Err(format!("query segment {segment:?} has no key"));
        }
        if params.iter().any(|(k, _)| *k == key) {
            return Err(format!("query parameter {key:?} is given more than once"));
        }
        let value = if key == PROJECTION {
            Value::String(raw_value.to_owned())
        } else if raw_value.is_empty() {
            Value::String(String::new())
        } else {
            decode(raw_value).map_err(|e| format!("query parameter {key:?}: {e}"))?
        };
        params.push((key, value));
    }
    Ok(params)
}

/// Strict percent-decoding: every `%` must start a two-digit hex escape, and the result must be
/// UTF-8 (the `percent-encoding` crate passes malformed escapes through, which hides bugs).
fn percent_decode(raw: &str) -> Result<String, String> {
    let bytes = raw.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'%'
            && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return Err(format!("malformed percent escape at byte {i}"));
        }
    }
    percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| "percent-encoded bytes are not UTF-8".to_owned())
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn error(&self, what: &str) -> String {
        format!("{what} at offset {} of {:?}", self.pos, self.text)
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected '{}'", byte as char)))
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        if self.rest().starts_with("List(") {
            self.pos += "List(".len();
            self.list()
        } else if self.peek() == Some(b'(') {
            self.pos += 1;
            self.object()
        } else {
            self.leaf().map(Value::String)
        }
    }

    /// After `List(`: values separated by `,`, then `)`.
    fn list(&mut self) -> Result<Value, String> {
        let mut items = Vec::new();
        if self.peek() == Some(b')') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value()?);
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b')') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.error("expected ',' or ')' in a list")),
            }
        }
    }

    /// After `(`: `key:value` pairs separated by `,`, then `)`.
    fn object(&mut self) -> Result<Value, String> {
        let mut map = Map::new();
        if self.peek() == Some(b')') {
            self.pos += 1;
            return Ok(Value::Object(map));
        }
        loop {
            let key = self.leaf()?;
            if key.is_empty() {
                return Err(self.error("empty object key"));
            }
            self.expect(b':')?;
            let value = self.value()?;
            if map.insert(key.clone(), value).is_some() {
                return Err(self.error(&format!("duplicate key {key:?}")));
            }
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b')') => {
                    self.pos += 1;
                    return Ok(Value::Object(map));
                }
                _ => return Err(self.error("expected ',' or ')' in an object")),
            }
        }
    }

    /// A leaf runs to the next structure character. It must not be empty (the empty string is
    /// spelled `''`).
    fn leaf(&mut self) -> Result<String, String> {
        let start = self.pos;
        let len = self
            .rest()
            .find(['(', ')', ',', ':'])
            .unwrap_or(self.rest().len());
        self.pos += len;
        let raw = &self.text[start..self.pos];
        if raw.is_empty() {
            return Err(self.error("expected a value"));
        }
        if raw == EMPTY_STRING {
            return Ok(String::new());
        }
        percent_decode(raw).map_err(|e| self.error(&e))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn vectors() -> Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/linkedin/restli-encoding.json"
        );
        let text = std::fs::read_to_string(path).expect("read restli-encoding.json");
        serde_json::from_str(&text).expect("parse restli-encoding.json")
    }

    /// The value with every leaf turned into a string, as `decode` returns it.
    fn leaves_as_strings(value: &Value) -> Value {
        match value {
            Value::Array(items) => Value::Array(items.iter().map(leaves_as_strings).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), leaves_as_strings(v)))
                    .collect(),
            ),
            Value::String(s) => Value::String(s.clone()),
            Value::Null => Value::String(String::new()),
            other => Value::String(other.to_string()),
        }
    }

    #[test]
    fn value_vectors_encode_and_round_trip() {
        let vectors = vectors();
        let values = vectors["values"].as_array().expect("values");
        assert!(!values.is_empty());
        for vector in values {
            let input = &vector["input"];
            let encoded = vector["encoded"].as_str().expect("encoded");
            assert_eq!(encode(input), encoded, "encoding {input}");
            assert_eq!(
                decode(encoded).expect("decode"),
                leaves_as_strings(input),
                "decoding {encoded}"
            );
        }
    }

    #[test]
    fn query_vectors_encode_and_round_trip() {
        let vectors = vectors();
        let queries = vectors["query_params"].as_array().expect("query_params");
        assert!(!queries.is_empty());
        for vector in queries {
            let input = vector["input"].as_object().expect("input object");
            let encoded = vector["encoded"].as_str().expect("encoded");
            let params: Vec<(&str, Value)> =
                input.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
            assert_eq!(encode_query(&params), encoded, "encoding {input:?}");
            let decoded = decode_query(encoded).expect("decode_query");
            let expected: Vec<(String, Value)> = input
                .iter()
                .map(|(k, v)| (k.clone(), leaves_as_strings(v)))
                .collect();
            assert_eq!(decoded, expected, "decoding {encoded}");
        }
    }

    #[test]
    fn linkedin_queries_round_trip() {
        let search = json!({"status": {"values": ["ACTIVE", "PAUSED"]}, "test": false});
        assert_eq!(
            encode(&search),
            "(status:(values:List(ACTIVE,PAUSED)),test:false)"
        );
        let owner = json!({"sponsoredAccount": "urn:li:sponsoredAccount:123"});
        assert_eq!(
            encode(&owner),
            "(sponsoredAccount:urn%3Ali%3AsponsoredAccount%3A123)"
        );
        assert_eq!(decode(&encode(&owner)).unwrap(), owner);
        assert_eq!(
            decode("(start:1,end:2)").unwrap(),
            json!({"start": "1", "end": "2"})
        );
    }

    #[test]
    fn empty_values() {
        assert_eq!(encode(&json!("")), "''");
        assert_eq!(decode("''").unwrap(), json!(""));
        assert_eq!(encode(&json!([])), "List()");
        assert_eq!(decode("List()").unwrap(), json!([]));
        assert_eq!(encode(&json!({})), "()");
        assert_eq!(decode("()").unwrap(), json!({}));
        assert_eq!(decode("(a:'')").unwrap(), json!({"a": ""}));
        assert_eq!(
            decode_query("a=&b=x").unwrap(),
            vec![("a".into(), json!("")), ("b".into(), json!("x"))]
        );
    }

    #[test]
    fn unicode_leaves() {
        let value = json!({"q": "Ingeniería ü €"});
        let encoded = encode(&value);
        assert_eq!(encoded, "(q:Ingenier%C3%ADa%20%C3%BC%20%E2%82%AC)");
        assert_eq!(decode(&encoded).unwrap(), value);
    }

    #[test]
    fn projection_is_not_encoded() {
        let query = encode_query(&[("q", json!("search")), ("fields", json!("id,name"))]);
        assert_eq!(query, "q=search&fields=id,name");
        assert_eq!(
            decode_query(&query).unwrap(),
            vec![
                ("q".into(), json!("search")),
                ("fields".into(), json!("id,name"))
            ]
        );
    }

    #[test]
    fn bad_syntax_is_refused() {
        for bad in [
            "(a:b",
            "List(a,b",
            "(a)",
            "(a:b))",
            "a)",
            "(a:b,)",
            "List(a,)",
            "(:b)",
            "(a:b,a:c)",
            "urn:li:x:1",
            "(k:urn:li:x:1)",
            "%zz",
            "%4",
            "%FF",
            "List(a)b",
            "",
        ] {
            assert!(decode(bad).is_err(), "{bad:?} should not decode");
        }
        assert!(decode_query("a=1&a=2").is_err());
        assert!(decode_query("=1").is_err());
        assert!(decode_query("owner=(sponsoredAccount:urn:li:sponsoredAccount:1)").is_err());
    }
}
