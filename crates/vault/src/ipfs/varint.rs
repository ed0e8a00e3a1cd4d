//! Unsigned LEB128 varints, as multiformats, CAR and protobuf frame their fields.
//! Hand-rolled (twenty lines) rather than another dependency; lengths over 2^63
//! and non-minimal encodings are refused, as the multiformats spec asks.

use std::io::Read;

/// The longest varint the multiformats spec allows (63 bits of payload).
const MAX_BYTES: usize = 9;

/// Appends `n` to `out`.
pub(crate) fn write(mut n: u64, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Why a varint could not be read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Bad {
    /// The input ended inside the varint.
    Truncated,
    /// Too long, or not minimally encoded.
    Malformed,
}

/// Reads one varint from the front of `input`, advancing it.
pub(crate) fn read_slice(input: &mut &[u8]) -> Result<u64, Bad> {
    let mut n = 0u64;
    for i in 0..MAX_BYTES {
        let (&byte, rest) = input.split_first().ok_or(Bad::Truncated)?;
        *input = rest;
        n |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return if byte == 0 && i > 0 {
                Err(Bad::Malformed)
            } else {
                Ok(n)
            };
        }
    }
    Err(Bad::Malformed)
}

/// Reads one varint from `reader`; `Ok(None)` on a clean end of input before it.
pub(crate) fn read_io(reader: &mut impl Read) -> std::io::Result<Result<Option<u64>, Bad>> {
    let mut buf = [0u8; MAX_BYTES];
    for i in 0..MAX_BYTES {
        let mut byte = [0u8];
        if read_byte(reader, &mut byte)? == 0 {
            return Ok(if i == 0 {
                Ok(None)
            } else {
                Err(Bad::Truncated)
            });
        }
        buf[i] = byte[0];
        if byte[0] & 0x80 == 0 {
            return Ok(read_slice(&mut &buf[..=i]).map(Some));
        }
    }
    Ok(Err(Bad::Malformed))
}

fn read_byte(reader: &mut impl Read, byte: &mut [u8; 1]) -> std::io::Result<usize> {
    loop {
        match reader.read(byte) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_bad_encodings() {
        for n in [0u64, 1, 127, 128, 300, 1 << 21, (1 << 63) - 1] {
            let mut v = Vec::new();
            write(n, &mut v);
            assert_eq!(read_slice(&mut &v[..]), Ok(n));
            assert_eq!(read_io(&mut &v[..]).unwrap(), Ok(Some(n)));
        }
        assert_eq!(read_slice(&mut &[0x80][..]), Err(Bad::Truncated));
        assert_eq!(read_slice(&mut &[0x80, 0x00][..]), Err(Bad::Malformed));
        assert_eq!(read_slice(&mut &[0xff; 10][..]), Err(Bad::Malformed));
        assert_eq!(read_io(&mut &[][..]).unwrap(), Ok(None));
        assert_eq!(read_io(&mut &[0x81][..]).unwrap(), Err(Bad::Truncated));
    }
}
