//! Reading a JSON document with every duplicate object key found. serde_json keeps the last
//! of two equal keys; a proxy or another parser in front of us may keep the first, so the
//! two would act on different values. A body with a duplicate key is refused, each
//! duplicate named by its JSON Pointer.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// One step of the path to a value: a key or an index, under its parent.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

struct Node<'a> {
    parent: Option<&'a Node<'a>>,
    step: Step<'a>,
}

impl Node<'_> {
    fn pointer(&self) -> String {
        let mut steps = Vec::new();
        let mut node = Some(self);
        while let Some(n) = node {
            steps.push(match n.step {
                Step::Key(k) => k.replace('~', "~0").replace('/', "~1"),
                Step::Index(i) => i.to_string(),
            });
            node = n.parent;
        }
        steps.iter().rev().fold(String::new(), |mut out, s| {
            out.push('/');
            out.push_str(s);
            out
        })
    }
}

/// Reads one value at `at` (the root when `None`), adding the pointer of every duplicate
/// key to `duplicates`.
struct Strict<'a, 'd> {
    at: Option<&'a Node<'a>>,
    duplicates: &'d mut Vec<String>,
}

impl<'de> DeserializeSeed<'de> for Strict<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let node = Node {
                parent: self.at,
                step: Step::Index(items.len()),
            };
            let seed = Strict {
                at: Some(&node),
                duplicates: &mut *self.duplicates,
            };
            match seq.next_element_seed(seed)? {
                Some(item) => items.push(item),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let node = Node {
                parent: self.at,
                step: Step::Key(&key),
            };
            let seed = Strict {
                at: Some(&node),
                duplicates: &mut *self.duplicates,
            };
            let value = map.next_value_seed(seed)?;
            if fields.contains_key(&key) {
                self.duplicates.push(node.pointer());
            } else {
                fields.insert(key, value);
            }
        }
        Ok(Value::Object(fields))
    }
}

/// The document, and the pointers of its duplicate keys (in the order they appear).
pub fn read(body: &[u8]) -> Result<(Value, Vec<String>), serde_json::Error> {
    let mut duplicates = Vec::new();
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = Strict {
        at: None,
        duplicates: &mut duplicates,
    }
    .deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok((value, duplicates))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_found_at_any_depth_with_their_pointers() {
        let (value, dups) = read(
            br#"{"id": "a", "x": {"k": 1, "k": 2}, "id": "b", "list": [{"a/b": 1, "a/b": 2}]}"#,
        )
        .unwrap();
        assert_eq!(dups, ["/x/k", "/id", "/list/0/a~1b"]);
        // The first of each is the one kept (never silently the last).
        assert_eq!(value["id"], "a");
        assert_eq!(value["x"]["k"], 1);
        let (value, dups) =
            read(br#"{"n": 5.5, "i": -3, "u": 18446744073709551615, "z": null, "t": [true, "s"]}"#)
                .unwrap();
        assert!(dups.is_empty());
        assert_eq!(
            value,
            serde_json::json!({"n": 5.5, "i": -3, "u": 18446744073709551615u64, "z": null, "t": [true, "s"]})
        );
        assert!(read(b"{\"a\": 1} x").is_err());
        assert!(read(b"{\"a\": ").is_err());
    }
}
