//! How the live overview's resources travel from the server render to the browser.
//!
//! Leptos's default resource codec reads the serialized value back with `serde_json::from_str`,
//! while `#[server]` functions read their JSON answers with `serde_json::from_slice`. serde
//! builds one deserializer per reader type, so with both, the wasm carries every overview type's
//! `Deserialize` twice (about a tenth of the wasm). [`SliceJson`] is the same JSON, read back
//! through the slice reader the server functions already use. No codec crate offers this, hence
//! these few lines.

use codee::{Decoder, Encoder};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// JSON with serde_json, decoded from bytes: the wire format of Leptos's default codec, so a
/// page rendered by one build hydrates with the same data.
pub struct SliceJson;

impl<T: Serialize> Encoder<T> for SliceJson {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(val: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(val)
    }
}

impl<T: DeserializeOwned> Decoder<T> for SliceJson {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(val: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(val.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::SliceJson;
    use codee::{Decoder, Encoder};

    #[test]
    fn a_value_comes_back_as_it_went() {
        let sent: Result<Vec<(String, u32)>, String> = Ok(vec![("é \"q\"".to_owned(), 7)]);
        let wire = SliceJson::encode(&sent).expect("encode");
        assert_eq!(wire, serde_json::to_string(&sent).expect("json"));
        let back: Result<Vec<(String, u32)>, String> = SliceJson::decode(&wire).expect("decode");
        assert_eq!(back, sent);
    }

    #[test]
    fn bad_json_is_an_error_not_a_panic() {
        let back: Result<u32, _> = <SliceJson as Decoder<u32>>::decode("{\"unclosed\":");
        assert!(back.is_err());
    }
}
