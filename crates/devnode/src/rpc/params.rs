//! Parameter shapes that the alloy types do not cover: dev tools send numbers
//! as JSON numbers, hex strings or decimal strings, depending on the tool.

use serde::{de, Deserialize, Deserializer};

/// A u64 given as a JSON number, a `0x` hex string or a decimal string.
/// Hardhat scripts send `evm_increaseTime(3600)`, alloy sends `"0xe10"`: both work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity(pub u64);

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(n) => Ok(Quantity(n)),
            Raw::Text(s) => parse_quantity(&s).map(Quantity).ok_or_else(|| {
                de::Error::custom(format!("expected a number or a quantity, got {s:?}"))
            }),
        }
    }
}

fn parse_quantity(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some("") => None,
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// `evm_mine`'s optional parameter: a timestamp (ganache, hardhat) or anvil's
/// `{ "timestamp": …, "blocks": … }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum MineParam {
    /// Mine one block at this timestamp.
    Timestamp(Quantity),
    /// Mine `blocks` blocks (default 1), the first at `timestamp` if given.
    Options {
        /// The first block's timestamp; the clock's if absent.
        timestamp: Option<Quantity>,
        /// How many blocks to mine.
        blocks: Option<Quantity>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(json: &str) -> Result<u64, serde_json::Error> {
        serde_json::from_str::<Quantity>(json).map(|q| q.0)
    }

    #[test]
    fn quantity_accepts_number_hex_and_decimal() {
        assert_eq!(q("3600").unwrap(), 3600);
        assert_eq!(q("\"0xe10\"").unwrap(), 3600);
        assert_eq!(q("\"3600\"").unwrap(), 3600);
        assert!(q("\"0x\"").is_err());
        assert!(q("\"soon\"").is_err());
        assert!(q("-1").is_err());
    }

    #[test]
    fn mine_param_accepts_both_shapes() {
        let p: MineParam = serde_json::from_str("\"0x10\"").unwrap();
        assert_eq!(p, MineParam::Timestamp(Quantity(16)));
        let p: MineParam = serde_json::from_str(r#"{"blocks":3}"#).unwrap();
        assert_eq!(
            p,
            MineParam::Options {
                timestamp: None,
                blocks: Some(Quantity(3))
            }
        );
    }
}
