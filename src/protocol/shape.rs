//! The shape of an op's typed params, read from the struct's own `Deserialize` implementation:
//! its field names and which of them a request may leave out. A test holds the op table's
//! `params` text (what `hello` and docs/PROTOCOL.md show) to it, so the text cannot drift from
//! the `deny_unknown_fields` struct a handler parses.
//!
//! The fields come from what serde's derive hands `deserialize_struct`; whether one is required
//! is found by deserialising the struct from a probe that offers every other field with a
//! placeholder value: it fails exactly when the left-out field is required.

use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::cell::Cell;

/// The typed params of an op, as a table entry names them: `ParamsType::of::<ListParams>()`.
#[derive(Clone, Copy)]
pub struct ParamsType {
    /// `std::any::type_name` of the struct (`ops::parse` checks, in debug builds, that the
    /// handler parses this very type).
    pub name: fn() -> &'static str,
    pub shape: fn() -> Result<ParamsShape, String>,
}

impl ParamsType {
    pub const fn of<T: Deserialize<'static>>() -> ParamsType {
        ParamsType { name: std::any::type_name::<T>, shape: shape_of::<T> }
    }
}

/// A params struct's fields, in declaration order, and whether each is required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamsShape {
    pub fields: Vec<(&'static str, bool)>,
}

/// Reads the shape of `T`, which must be a struct deserialised by serde's derive.
pub fn shape_of<T: Deserialize<'static>>() -> Result<ParamsShape, String> {
    let seen = Cell::new(None);
    T::deserialize(Probe { leave_out: None, fields: &seen }).map_err(|e| format!("{}: every field given: {e}", std::any::type_name::<T>()))?;
    let fields = seen.get().ok_or_else(|| format!("{} is not a struct", std::any::type_name::<T>()))?;
    let required = |name: &'static str| T::deserialize(Probe { leave_out: Some(name), fields: &Cell::new(None) }).is_err();
    Ok(ParamsShape { fields: fields.iter().map(|&f| (f, required(f))).collect() })
}

#[derive(Debug)]
pub struct ProbeError(String);

impl std::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ProbeError {}

impl de::Error for ProbeError {
    fn custom<M: std::fmt::Display>(msg: M) -> Self {
        ProbeError(msg.to_string())
    }
}

/// Offers a struct every one of its fields but `leave_out`.
struct Probe<'a> {
    leave_out: Option<&'static str>,
    fields: &'a Cell<Option<&'static [&'static str]>>,
}

impl<'de> Deserializer<'de> for Probe<'_> {
    type Error = ProbeError;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, ProbeError> {
        Err(de::Error::custom("params are a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(self, _: &'static str, fields: &'static [&'static str], visitor: V) -> Result<V::Value, ProbeError> {
        self.fields.set(Some(fields));
        let leave_out = self.leave_out;
        visitor.visit_map(Fields { keys: fields.iter().copied().filter(move |f| Some(*f) != leave_out).collect::<Vec<_>>().into_iter() })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

struct Fields {
    keys: std::vec::IntoIter<&'static str>,
}

impl<'de> MapAccess<'de> for Fields {
    type Error = ProbeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, ProbeError> {
        self.keys.next().map(|k| seed.deserialize(k.into_deserializer())).transpose()
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, ProbeError> {
        seed.deserialize(Placeholder)
    }
}

/// A value of whatever type is asked for: false, 0, "", empty, null, present.
struct Placeholder;

impl<'de> Deserializer<'de> for Placeholder {
    type Error = ProbeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        visitor.visit_unit()
    }
    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        visitor.visit_bool(false)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        visitor.visit_i64(0)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        visitor.visit_u64(0)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        visitor.visit_f64(0.0)
    }
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        visitor.visit_borrowed_str("")
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        visitor.visit_borrowed_bytes(&[])
    }
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        visitor.visit_some(self)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, ProbeError> {
        visitor.visit_newtype_struct(self)
    }
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        visitor.visit_seq(Empty)
    }
    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        visitor.visit_map(Empty)
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        self.deserialize_i64(visitor)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        self.deserialize_i64(visitor)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        self.deserialize_i64(visitor)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        self.deserialize_u64(visitor)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        self.deserialize_u64(visitor)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        self.deserialize_u64(visitor)
    }
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        self.deserialize_f64(visitor)
    }

    serde::forward_to_deserialize_any! {
        i128 u128 char unit unit_struct tuple tuple_struct struct enum identifier ignored_any
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        self.deserialize_str(visitor)
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        self.deserialize_bytes(visitor)
    }
}

struct Empty;

impl<'de> SeqAccess<'de> for Empty {
    type Error = ProbeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, _: T) -> Result<Option<T::Value>, ProbeError> {
        Ok(None)
    }
}

impl<'de> MapAccess<'de> for Empty {
    type Error = ProbeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, _: K) -> Result<Option<K::Value>, ProbeError> {
        Ok(None)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, _: V) -> Result<V::Value, ProbeError> {
        Err(de::Error::custom("no value"))
    }
}

/// The fields an op table's `params` text names, e.g. `{message_b64 or transfer, at?}`: each
/// with whether a request must give it (`?` marks one it may leave out; of `a or b` it gives
/// one, so neither alone is required).
pub fn documented_fields(params: &str) -> Result<Vec<(&str, bool)>, String> {
    let inner = params.strip_prefix('{').and_then(|p| p.strip_suffix('}')).ok_or_else(|| format!("{params:?} is not {{…}}"))?;
    let mut out = Vec::new();
    for item in inner.split(", ").filter(|i| !i.is_empty()) {
        let alternatives: Vec<&str> = item.split(" or ").collect();
        for name in &alternatives {
            let (name, optional) = match name.strip_suffix('?') {
                Some(n) => (n, true),
                None => (*name, alternatives.len() > 1),
            };
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
                return Err(format!("{params:?}: {name:?} is not a field name"));
            }
            out.push((name, !optional));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::IgnoredAny;

    #[allow(dead_code)]
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sample<'a> {
        name: String,
        #[serde(default)]
        count: usize,
        limit: Option<u32>,
        #[serde(borrow)]
        text: std::borrow::Cow<'a, str>,
        list: Vec<String>,
        any: serde_json::Value,
        #[serde(default)]
        flag: bool,
        #[serde(rename = "renamed_b64")]
        renamed: String,
    }

    #[test]
    fn the_shape_names_every_field_and_which_are_required() {
        let shape = shape_of::<Sample<'static>>().unwrap();
        assert_eq!(
            shape.fields,
            [
                ("name", true),
                ("count", false),
                ("limit", false),
                ("text", true),
                ("list", true),
                ("any", true),
                ("flag", false),
                ("renamed_b64", true)
            ]
        );
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Nothing {}
        assert_eq!(shape_of::<Nothing>().unwrap().fields, []);
        assert!(shape_of::<IgnoredAny>().is_err(), "not a struct");
    }

    #[test]
    fn params_text_names_fields_and_optional_ones() {
        assert_eq!(documented_fields("{}").unwrap(), []);
        assert_eq!(
            documented_fields("{message_b64 or transfer, at?, addresses}").unwrap(),
            [("message_b64", false), ("transfer", false), ("at", false), ("addresses", true)]
        );
        assert!(documented_fields("{a, B}").is_err());
        assert!(documented_fields("a, b").is_err());
    }
}
