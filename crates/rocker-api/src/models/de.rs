//! Deserialize helpers that give our models the tolerance of Go's `encoding/json`.
//!
//! Docker's types are Go structs: a JSON `null` leaves a field at its zero value, and a few
//! fields (`Cmd`, `Entrypoint`, `Shell`, `Healthcheck.Test`) accept either a string or an
//! array of strings (`strslice.StrSlice`). The Python SDK and docker-compose send both
//! shapes, so every model field opts into one of these helpers.

use serde::{Deserialize, Deserializer};

/// `null` or a missing value becomes `T::default()`, like Go's zero value.
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Docker's `StrSlice`: `null`, `"a b"` (one element) or `["a", "b"]`.
pub(crate) fn str_slice<'de, D>(d: D) -> Result<Option<Vec<String>>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => None,
        Some(OneOrMany::One(s)) => Some(vec![s]),
        Some(OneOrMany::Many(v)) => Some(v),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Default, Debug)]
    #[serde(default)]
    struct T {
        #[serde(deserialize_with = "nullable")]
        n: i64,
        #[serde(deserialize_with = "str_slice")]
        s: Option<Vec<String>>,
    }

    #[test]
    fn null_and_string_forms() {
        let t: T = serde_json::from_str(r#"{"n":null,"s":"echo hi"}"#).expect("parse");
        assert_eq!(t.n, 0);
        assert_eq!(t.s, Some(vec!["echo hi".to_string()]));
        let t: T = serde_json::from_str(r#"{"s":["a","b"]}"#).expect("parse");
        assert_eq!(t.s.map(|v| v.len()), Some(2));
        let t: T = serde_json::from_str(r#"{"s":null,"n":3}"#).expect("parse");
        assert!(t.s.is_none());
        assert_eq!(t.n, 3);
    }
}
