//! The deployed-code format of a Stylus program: `EF F0 00`, one dictionary byte, then the
//! brotli-compressed WASM (nitro: go-ethereum `core/state` Stylus prefix helpers and
//! `arbos/programs/programs.go` `getWasmFromClassicStylus`).

use std::io::{Read, Write};

use crate::Error;

/// Prefix of a classic (unfragmented) Stylus program.
pub const STYLUS_PREFIX: [u8; 3] = [0xEF, 0xF0, 0x00];
/// Prefix of a fragment of a fragmented program (ArbOS 60).
pub const FRAGMENT_PREFIX: [u8; 3] = [0xEF, 0xF0, 0x01];
/// Prefix of the root of a fragmented program (ArbOS 60).
pub const ROOT_PREFIX: [u8; 3] = [0xEF, 0xF0, 0x02];
/// Dictionary byte meaning "plain brotli, no dictionary" (what cargo-stylus writes).
pub const DICTIONARY_NONE: u8 = 0x00;
/// Dictionary byte for nitro's built-in Stylus program dictionary.
pub const DICTIONARY_STYLUS: u8 = 0x01;

/// Brotli quality cargo-stylus uses.
const BROTLI_QUALITY: u32 = 11;
/// Brotli window (log2) cargo-stylus uses.
const BROTLI_WINDOW: u32 = 22;
/// Internal buffer of the brotli streams; any size works, this one is brotli's usual.
const BROTLI_BUFFER: usize = 4096;

/// True when `code` is a classic Stylus program (`EF F0 00` prefix).
pub fn is_stylus_program(code: &[u8]) -> bool {
    code.starts_with(&STYLUS_PREFIX)
}

/// Extracts the WASM from deployed Stylus code, refusing output larger than `max_wasm_size`.
///
/// Decompression reads at most `max_wasm_size + 1` bytes, so hostile input cannot make it
/// allocate more than that (plus brotli's window of at most 16 MiB).
pub fn decode_program(code: &[u8], max_wasm_size: usize) -> Result<Vec<u8>, Error> {
    if code.starts_with(&FRAGMENT_PREFIX) || code.starts_with(&ROOT_PREFIX) {
        return Err(Error::FragmentedProgram);
    }
    if !is_stylus_program(code) {
        return Err(Error::NotStylusProgram);
    }
    let Some(&dictionary) = code.get(STYLUS_PREFIX.len()) else {
        return Err(Error::NotStylusProgram);
    };
    if dictionary != DICTIONARY_NONE {
        return Err(Error::UnsupportedDictionary(dictionary));
    }
    let compressed = &code[STYLUS_PREFIX.len() + 1..];
    let mut wasm = Vec::new();
    let limit = u64::try_from(max_wasm_size)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    brotli::Decompressor::new(compressed, BROTLI_BUFFER)
        .take(limit)
        .read_to_end(&mut wasm)
        .map_err(|e| Error::Decompression(e.to_string()))?;
    if wasm.len() > max_wasm_size {
        return Err(Error::WasmTooLarge {
            limit: max_wasm_size,
        });
    }
    Ok(wasm)
}

/// Deployable code for `wasm`, as cargo-stylus writes it: `EF F0 00 00` then brotli
/// (quality 11, window 22).
pub fn encode_program(wasm: &[u8]) -> Vec<u8> {
    let mut code = Vec::with_capacity(wasm.len() / 2 + 8);
    code.extend_from_slice(&STYLUS_PREFIX);
    code.push(DICTIONARY_NONE);
    {
        let mut writer =
            brotli::CompressorWriter::new(&mut code, BROTLI_BUFFER, BROTLI_QUALITY, BROTLI_WINDOW);
        // Writing into a Vec cannot fail.
        writer.write_all(wasm).expect("brotli into a Vec");
    }
    code
}

/// Message for [`Error::UnsupportedDictionary`]: 0x01 is nitro's own dictionary, anything
/// else is unknown to nitro too.
pub(crate) fn dictionary_message(dictionary: &u8) -> String {
    match *dictionary {
        DICTIONARY_STYLUS => "the program is compressed with nitro's Stylus dictionary \
            (dictionary byte 0x01), which this devnode does not support; deploy it with \
            dictionary byte 0x00"
            .to_string(),
        other => format!("unknown Stylus compression dictionary 0x{other:02x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let wasm = b"\0asm\x01\0\0\0 some bytes some bytes some bytes".to_vec();
        let code = encode_program(&wasm);
        assert!(is_stylus_program(&code));
        assert_eq!(&code[..4], &[0xEF, 0xF0, 0x00, 0x00]);
        assert_eq!(decode_program(&code, 1024).unwrap(), wasm);
        // Exactly at the limit is fine, one byte under is not.
        assert_eq!(decode_program(&code, wasm.len()).unwrap(), wasm);
        assert!(matches!(
            decode_program(&code, wasm.len() - 1),
            Err(Error::WasmTooLarge { .. })
        ));
    }

    #[test]
    fn bomb_is_cut_at_the_limit() {
        // 64 MiB of zeros compress to a few KiB; decoding must stop at the limit.
        let big = vec![0u8; 64 << 20];
        let code = encode_program(&big);
        assert!(code.len() < 64 << 10);
        assert!(matches!(
            decode_program(&code, 128 * 1024),
            Err(Error::WasmTooLarge { limit: 131072 })
        ));
    }

    #[test]
    fn rejects_other_prefixes() {
        assert!(matches!(
            decode_program(&[0x60, 0x00], 10),
            Err(Error::NotStylusProgram)
        ));
        assert!(matches!(
            decode_program(&[0xEF, 0xF0, 0x00], 10),
            Err(Error::NotStylusProgram)
        ));
        assert!(matches!(
            decode_program(&[0xEF, 0xF0, 0x03, 0x00], 10),
            Err(Error::NotStylusProgram)
        ));
        for prefix in [FRAGMENT_PREFIX, ROOT_PREFIX] {
            let err = decode_program(&[prefix[0], prefix[1], prefix[2], 0], 10).unwrap_err();
            assert!(matches!(err, Error::FragmentedProgram));
            assert_eq!(
                err.to_string(),
                "fragmented programs are not supported by this devnode"
            );
        }
        let err = decode_program(&[0xEF, 0xF0, 0x00, 0x01, 0x00], 10).unwrap_err();
        assert!(matches!(err, Error::UnsupportedDictionary(1)));
        assert!(err.to_string().contains("Stylus dictionary"));
        let err = decode_program(&[0xEF, 0xF0, 0x00, 0x07], 10).unwrap_err();
        assert!(err.to_string().contains("0x07"));
    }

    #[test]
    fn rejects_corrupt_brotli() {
        let code = encode_program(&[7u8; 1000]);
        let truncated = &code[..code.len() - 2];
        assert!(matches!(
            decode_program(truncated, 4096),
            Err(Error::Decompression(_))
        ));
        let mut garbage = STYLUS_PREFIX.to_vec();
        garbage.extend_from_slice(&[0, 0xFF, 0xFF, 0xFF, 0xFF, 0x12]);
        assert!(matches!(
            decode_program(&garbage, 4096),
            Err(Error::Decompression(_))
        ));
    }
}
