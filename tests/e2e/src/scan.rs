//! The privacy scan: a canary's bytes searched for in every place the system
//! writes to, in every encoding those places use (raw, hex as JSON-RPC shows
//! bytes, base64 as FHIR attachments and mail bodies carry them).

use base64::Engine;
use std::path::Path;

/// What was searched, and where the canary was found.
#[derive(Debug, Default)]
pub struct Scan {
    patterns: Vec<(String, Vec<u8>)>,
    /// Counts of what was read, by kind (files, bytes, blocks, logs, slots...).
    pub read: std::collections::BTreeMap<&'static str, u64>,
    /// "<where>: <encoding>" for every hit.
    pub hits: Vec<String>,
}

impl Scan {
    /// A scan for `canary` raw, in hex of either case and in base64 at each alignment.
    pub fn new(canary: &str) -> Self {
        let bytes = canary.as_bytes();
        let mut patterns = vec![
            ("raw".to_string(), bytes.to_vec()),
            ("hex".to_string(), alloy::hex::encode(bytes).into_bytes()),
            (
                "HEX".to_string(),
                alloy::hex::encode_upper(bytes).into_bytes(),
            ),
        ];
        // base64 of the canary at each of the three alignments it can have inside a
        // longer text: the characters that depend on the canary's bytes alone.
        for offset in 0..3usize {
            let mut padded = vec![0u8; offset];
            padded.extend_from_slice(bytes);
            let encoded = base64::engine::general_purpose::STANDARD.encode(&padded);
            let skip = if offset == 0 { 0 } else { 4 };
            let whole = 4 * (padded.len() / 3);
            if whole > skip + 8 {
                patterns.push((
                    format!("base64+{offset}"),
                    encoded.as_bytes()[skip..whole].to_vec(),
                ));
            }
        }
        Self {
            patterns,
            ..Self::default()
        }
    }

    /// A scan for category names instead of a canary: for each word, its
    /// keccak-256 (what a category code was before codes were per patient; a
    /// dictionary of names recovers it) and the word itself as a bytes32 (how an
    /// uncoded name would sit in calldata, logs or storage), raw and in hex.
    /// The bare word is not searched: three letters turn up in any megabyte by chance.
    pub fn words<'a>(words: impl IntoIterator<Item = &'a str>) -> Self {
        let mut patterns = Vec::new();
        for w in words {
            let hash = alloy::primitives::keccak256(w.as_bytes());
            let mut word = [0u8; 32];
            let n = w.len().min(32);
            word[..n].copy_from_slice(&w.as_bytes()[..n]);
            for (what, bytes) in [("keccak256", hash.0), ("bytes32", word)] {
                patterns.push((format!("{what}({w:?})"), bytes.to_vec()));
                patterns.push((
                    format!("{what}({w:?}) hex"),
                    alloy::hex::encode(bytes).into_bytes(),
                ));
            }
        }
        Self {
            patterns,
            ..Self::default()
        }
    }

    fn count(&mut self, kind: &'static str, n: u64) {
        *self.read.entry(kind).or_default() += n;
    }

    /// Searches `data`, found at `place`.
    pub fn bytes(&mut self, place: &str, data: &[u8]) {
        self.count("bytes", data.len() as u64);
        for (encoding, pattern) in &self.patterns {
            if data.windows(pattern.len()).any(|w| w == pattern.as_slice()) {
                self.hits.push(format!("{place}: {encoding}"));
            }
        }
    }

    /// Searches every file under `dir`, recursively.
    pub fn dir(&mut self, dir: &Path) {
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if let Ok(data) = std::fs::read(&path) {
                    self.count("files", 1);
                    self.bytes(&path.display().to_string(), &data);
                }
            }
        }
    }

    /// Searches a JSON-RPC answer: its text, and the bytes behind every hex string.
    pub fn json(&mut self, place: &str, value: &serde_json::Value) {
        self.bytes(place, value.to_string().as_bytes());
        let mut stack = vec![value];
        while let Some(v) = stack.pop() {
            match v {
                serde_json::Value::String(s) => {
                    if let Some(hex) = s.strip_prefix("0x") {
                        if let Ok(decoded) = alloy::hex::decode(hex) {
                            self.bytes(place, &decoded);
                        }
                    }
                }
                serde_json::Value::Array(a) => stack.extend(a),
                serde_json::Value::Object(o) => stack.extend(o.values()),
                _ => {}
            }
        }
    }

    /// Everything the chain shows through JSON-RPC: every block with its
    /// transactions (calldata), every receipt's logs, and every storage slot of
    /// `contracts` (`debug_storageRangeAt` on a block mined for the purpose).
    pub fn chain(&mut self, net: &crate::Net, contracts: &[String]) {
        net.mine();
        let head = net.head();
        for n in 0..=head {
            let block = net.rpc(
                "eth_getBlockByNumber",
                serde_json::json!([format!("0x{n:x}"), true]),
            );
            self.count("blocks", 1);
            if let Some(txs) = block["transactions"].as_array() {
                self.count("transactions", txs.len() as u64);
            }
            self.json(&format!("block {n}"), &block);
        }
        let logs = net.rpc(
            "eth_getLogs",
            serde_json::json!([{"fromBlock": "0x0", "toBlock": "latest"}]),
        );
        self.count("logs", logs.as_array().map_or(0, |l| l.len() as u64));
        self.json("eth_getLogs", &logs);

        let head_hash = net.rpc(
            "eth_getBlockByNumber",
            serde_json::json!([format!("0x{head:x}"), false]),
        )["hash"]
            .clone();
        for contract in contracts {
            let mut start = serde_json::json!("0x00");
            // Long values span consecutive slots: read them joined in slot order too.
            let mut words: Vec<(String, Vec<u8>)> = Vec::new();
            loop {
                let page = net.rpc(
                    "debug_storageRangeAt",
                    serde_json::json!([head_hash, 0, contract, start, 1024]),
                );
                let slots = page["storage"].as_object().map_or(0, |s| s.len() as u64);
                self.count("storage slots", slots);
                self.json(&format!("storage of {contract}"), &page["storage"]);
                for entry in page["storage"]
                    .as_object()
                    .into_iter()
                    .flat_map(|s| s.values())
                {
                    let hex = |k: &str| entry[k].as_str().unwrap_or("0x").to_string();
                    let value = alloy::hex::decode(hex("value").trim_start_matches("0x"));
                    words.push((hex("key"), value.unwrap_or_default()));
                }
                match &page["nextKey"] {
                    serde_json::Value::String(next) => start = serde_json::json!(next),
                    _ => break,
                }
            }
            words.sort();
            let joined: Vec<u8> = words.into_iter().flat_map(|(_, v)| v).collect();
            self.json_free_bytes(&format!("storage of {contract}, slots joined"), &joined);
        }
    }

    /// Like [`Scan::bytes`], without counting the bytes twice.
    fn json_free_bytes(&mut self, place: &str, data: &[u8]) {
        let before = self.read.get("bytes").copied().unwrap_or(0);
        self.bytes(place, data);
        self.read.insert("bytes", before);
    }

    /// The counts, for the test's output.
    pub fn summary(&self) -> String {
        self.read
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    const CANARY: &str = "CANARY-0123456789abcdef-X";

    #[test]
    fn finds_the_canary_raw_hex_and_in_base64_at_every_alignment() {
        for prefix in ["", "a", "ab", "abc"] {
            let text = format!("{prefix}{CANARY} and more");
            let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
            let mut s = Scan::new(CANARY);
            s.bytes("b64", b64.as_bytes());
            assert_eq!(s.hits.len(), 1, "prefix {prefix:?}: {:?}", s.hits);
        }
        let mut s = Scan::new(CANARY);
        let hex = format!("0x00{}00", alloy::hex::encode(CANARY));
        s.json("rpc", &serde_json::json!({"data": hex}));
        // The hex text itself, and its decoded bytes.
        assert!(s.hits.iter().any(|h| h.ends_with(": hex")), "{:?}", s.hits);
        assert!(s.hits.iter().any(|h| h.ends_with(": raw")), "{:?}", s.hits);
    }

    #[test]
    fn finds_a_category_word_hashed_or_as_bytes32() {
        let hash = alloy::primitives::keccak256("lab");
        let mut s = Scan::words(["lab", "hiv"]);
        s.json("log", &serde_json::json!({"topics": [hash.to_string()]}));
        assert!(
            s.hits.iter().any(|h| h.contains("keccak256(\"lab\")")),
            "{:?}",
            s.hits
        );
        let mut s = Scan::words(["hiv"]);
        let word = format!("0x{}{}", alloy::hex::encode("hiv"), "00".repeat(29));
        s.json("calldata", &serde_json::json!({"input": word}));
        assert!(
            s.hits.iter().any(|h| h.contains("bytes32(\"hiv\")")),
            "{:?}",
            s.hits
        );
        let mut s = Scan::words(["hiv"]);
        s.bytes("clean", b"hiv lab psychiatry");
        assert!(s.hits.is_empty(), "{:?}", s.hits);
    }

    #[test]
    fn clean_data_and_near_misses_are_not_hits() {
        let mut s = Scan::new(CANARY);
        s.bytes("clean", b"CANARY-0123456789abcdef-Y, nothing else");
        s.json(
            "rpc",
            &serde_json::json!({"x": "0xzz", "n": 1, "l": [null, "0x00"]}),
        );
        assert!(s.hits.is_empty(), "{:?}", s.hits);
        assert!(s.read["bytes"] > 0);
    }
}
