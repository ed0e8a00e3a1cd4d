//! CARv1 archives: a DAG as one stream, the form `ipfs dag import` and
//! `ipfs dag export` speak.
//!
//! Hand-written rather than a dependency: the Rust CAR crates either only read
//! (rs-car-sync, navira-car) or are async (iroh-car, on tokio), and this crate is
//! blocking. The format is small: a varint-framed DAG-CBOR header
//! `{roots: [CID], version: 1}`, then varint-framed `CID bytes ‖ block` sections.
//!
//! Import reads one section at a time, never more than [`MAX_SECTION`] bytes, and
//! every block goes through the store's `put`, which checks it against its CID.

use super::blockstore::{verify, BlockStore};
use super::codec::{DAG_PB, RAW};
use super::{dagpb, varint};
use crate::Error;
use cid::Cid;
use std::collections::HashSet;
use std::io::{BufWriter, Read, Write};

/// The largest section (CID and block) import accepts. kubo refuses blocks over
/// 1 MiB on the network, and UnixFS chunks are 256 KiB.
pub const MAX_SECTION: u64 = 4 << 20;
/// The largest header import accepts: a handful of roots fits in a few hundred bytes.
const MAX_HEADER: u64 = 64 << 10;

/// Writes the DAG under `root` from `store` to `out` as a CARv1, blocks in
/// depth-first order (parents first, links in order, each block once), as kubo's
/// `dag export` orders them. Streams: one block in memory at a time.
pub fn export_car(root: &Cid, store: &impl BlockStore, out: impl Write) -> Result<(), Error> {
    let mut out = BufWriter::new(out);
    let header = header(root);
    let mut frame = Vec::with_capacity(header.len() + 2);
    varint::write(header.len() as u64, &mut frame);
    frame.extend_from_slice(&header);
    out.write_all(&frame)?;

    let mut seen = HashSet::new();
    let mut stack = vec![*root];
    while let Some(cid) = stack.pop() {
        if !seen.insert(cid) {
            continue;
        }
        let block = store.get(&cid)?;
        write_section(&mut out, &cid, &block)?;
        match cid.codec() {
            DAG_PB => stack.extend(dagpb::links(&block)?.into_iter().rev()),
            RAW => {}
            other => {
                return Err(Error::Ipfs(format!(
                    "cannot export {cid}: codec 0x{other:x} is not dag-pb or raw"
                )))
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// Writes one CARv1 section: its length, `cid` and `block`. Nothing checks that
/// the block is the CID's: tests use it to write the sections a hostile node would.
pub fn write_section(out: &mut impl Write, cid: &Cid, block: &[u8]) -> std::io::Result<()> {
    let cid_bytes = cid.to_bytes();
    let mut frame = Vec::with_capacity(cid_bytes.len() + 10);
    varint::write((cid_bytes.len() + block.len()) as u64, &mut frame);
    frame.extend_from_slice(&cid_bytes);
    out.write_all(&frame)?;
    out.write_all(block)
}

/// Reads a CARv1 from `reader` into `store`; returns the roots its header names.
/// Each block is checked against its CID by the store. A CAR may legitimately
/// hold only part of a DAG, so the roots' blocks need not all be present.
pub fn import_car(mut reader: impl Read, store: &mut impl BlockStore) -> Result<Vec<Cid>, Error> {
    let (_, roots) = read_header(&mut reader)?;
    let mut n = 0u64;
    while let Some(section) = section(&mut reader, MAX_SECTION, "block section")? {
        n += 1;
        let mut rest = &section[..];
        let cid =
            Cid::read_bytes(&mut rest).map_err(|e| car(&format!("section {n}: bad CID: {e}")))?;
        store.put(&cid, rest)?;
    }
    Ok(roots)
}

/// Reads a CARv1 of the DAG under `root` from `reader`, an untrusted source (an
/// IPFS node's `dag export`), into `store`. Only blocks the DAG names are taken,
/// each checked against its CID before its links are read, parents before their
/// children (the order kubo and js-ipfs send), and no more bytes than the root
/// declares (its own length and its links' `Tsize`). Reading stops as soon as
/// the DAG is whole: a source that streams unrelated blocks, or more than the
/// DAG, fails at its first surplus block instead of filling the store.
pub fn import_dag(
    mut reader: impl Read,
    root: &Cid,
    store: &mut impl BlockStore,
) -> Result<(), Error> {
    let (_, roots) = read_header(&mut reader)?;
    if roots != [*root] {
        return Err(car(&format!(
            "asked for the DAG under {root}, got a CAR of {roots:?}"
        )));
    }
    // Named by a block received so far (or the root); `wanted` are those still to come.
    let mut named = HashSet::from([*root]);
    let mut wanted = HashSet::from([*root]);
    let mut declared = None;
    let (mut received, mut n) = (0u64, 0u64);
    while !wanted.is_empty() {
        let Some(section) = section(&mut reader, MAX_SECTION, "block section")? else {
            let some = wanted.iter().next().expect("not empty");
            return Err(car(&format!(
                "it ends with {} block(s) of {root} missing, {some} among them",
                wanted.len()
            )));
        };
        n += 1;
        let mut block = &section[..];
        let cid =
            Cid::read_bytes(&mut block).map_err(|e| car(&format!("section {n}: bad CID: {e}")))?;
        // A block named twice in the DAG (a repeated chunk) may come twice; it
        // counts against the declared size all the same.
        let fresh = wanted.remove(&cid);
        if !fresh && !named.contains(&cid) {
            return Err(car(&format!(
                "section {n}: block {cid} is not part of the DAG asked for \
                 (or came before the block that links to it)"
            )));
        }
        received += block.len() as u64;
        if let Some(limit) = declared.filter(|&limit| received > limit) {
            return Err(car(&format!(
                "the blocks of {root} come to more than the {limit} bytes its root declares"
            )));
        }
        if !fresh {
            continue;
        }
        // Links are read only from a block known to be the one its parent named.
        verify(&cid, block)?;
        match cid.codec() {
            DAG_PB => {
                let links = dagpb::sized_links(block)?;
                if cid == *root {
                    declared = links.iter().try_fold(block.len() as u64, |sum, (_, size)| {
                        sum.checked_add((*size)?)
                    });
                }
                for (link, _) in links {
                    if named.insert(link) {
                        wanted.insert(link);
                    }
                }
            }
            RAW => {}
            other => {
                return Err(Error::Ipfs(format!(
                    "cannot import {cid}: codec 0x{other:x} is not dag-pb or raw"
                )))
            }
        }
        store.put(&cid, block)?;
    }
    Ok(())
}

/// Reads and checks a CAR header; returns it as framed on the wire (to send on
/// unchanged) and the roots it names.
pub(crate) fn read_header(reader: &mut impl Read) -> Result<(Vec<u8>, Vec<Cid>), Error> {
    let header = match section(reader, MAX_HEADER, "header")? {
        Some(header) => header,
        None => return Err(car("empty input, no header")),
    };
    let roots = parse_header(&header)?;
    let mut frame = Vec::with_capacity(header.len() + 3);
    varint::write(header.len() as u64, &mut frame);
    frame.extend_from_slice(&header);
    Ok((frame, roots))
}

/// One varint-framed section, or `None` at a clean end of input.
fn section(reader: &mut impl Read, max: u64, what: &str) -> Result<Option<Vec<u8>>, Error> {
    let len = match varint::read_io(reader)? {
        Ok(Some(len)) => len,
        Ok(None) => return Ok(None),
        Err(varint::Bad::Truncated) => return Err(car(&format!("{what} length is truncated"))),
        Err(varint::Bad::Malformed) => return Err(car(&format!("{what} length is malformed"))),
    };
    if len == 0 {
        return Err(car(&format!("{what} is empty")));
    }
    if len > max {
        return Err(car(&format!(
            "{what} of {len} bytes is over the {max}-byte limit"
        )));
    }
    // Grows as bytes arrive: a lying length costs nothing until the bytes exist.
    let mut buf = Vec::new();
    reader.take(len).read_to_end(&mut buf)?;
    if (buf.len() as u64) < len {
        return Err(car(&format!(
            "{what} is truncated ({} of {len} bytes)",
            buf.len()
        )));
    }
    Ok(Some(buf))
}

fn car(why: &str) -> Error {
    Error::Car(why.to_string())
}

/// DAG-CBOR `{"roots": [root], "version": 1}`, keys in canonical order
/// (shorter first), the CID as tag 42 over its bytes behind a 0x00 prefix.
fn header(root: &Cid) -> Vec<u8> {
    let cid = root.to_bytes();
    let mut h = vec![0xa2];
    cbor_head(3, 5, &mut h);
    h.extend_from_slice(b"roots");
    cbor_head(4, 1, &mut h);
    h.extend_from_slice(&[0xd8, 42]);
    cbor_head(2, cid.len() as u64 + 1, &mut h);
    h.push(0);
    h.extend_from_slice(&cid);
    cbor_head(3, 7, &mut h);
    h.extend_from_slice(b"version");
    h.push(0x01);
    h
}

fn cbor_head(major: u8, n: u64, out: &mut Vec<u8>) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xff => out.extend_from_slice(&[m | 24, n as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
}

/// The roots of a CARv1 header; anything else (CARv2, extra keys, indefinite
/// lengths) is refused.
fn parse_header(mut h: &[u8]) -> Result<Vec<Cid>, Error> {
    let h = &mut h;
    let entries = expect(h, 5, "header is not a map")?;
    let (mut roots, mut version) = (None, None);
    for _ in 0..entries {
        let len = expect(h, 3, "header key is not a string")?;
        match take(h, len)? {
            b"version" => version = Some(expect(h, 0, "version is not an integer")?),
            b"roots" => {
                let n = expect(h, 4, "roots is not an array")?;
                let mut list = Vec::new();
                for _ in 0..n {
                    if expect(h, 6, "a root is not a CID")? != 42 {
                        return Err(car("a root is not a CID (tag 42)"));
                    }
                    let len = expect(h, 2, "a root is not a CID")?;
                    match take(h, len)? {
                        [0, cid @ ..] => list.push(
                            Cid::try_from(cid).map_err(|e| car(&format!("bad root CID: {e}")))?,
                        ),
                        _ => return Err(car("a root CID lacks its 0x00 prefix")),
                    }
                }
                roots = Some(list);
            }
            other => {
                return Err(car(&format!(
                    "unexpected header key {:?}",
                    String::from_utf8_lossy(other)
                )))
            }
        }
    }
    if !h.is_empty() {
        return Err(car("trailing bytes after the header"));
    }
    match version {
        Some(1) => {}
        Some(2) => return Err(car("CARv2 is not supported, only CARv1")),
        Some(v) => return Err(car(&format!("version {v} is not 1"))),
        None => return Err(car("header has no version")),
    }
    match roots {
        Some(roots) if !roots.is_empty() => Ok(roots),
        _ => Err(car("header names no root")),
    }
}

/// Reads a CBOR head of major type `major`; returns its argument.
fn expect(h: &mut &[u8], major: u8, why: &str) -> Result<u64, Error> {
    let (&first, rest) = h.split_first().ok_or_else(|| car("header is truncated"))?;
    *h = rest;
    if first >> 5 != major {
        return Err(car(why));
    }
    let width = match first & 0x1f {
        n @ 0..=23 => return Ok(u64::from(n)),
        24 => 1,
        25 => 2,
        26 => 4,
        27 => 8,
        _ => return Err(car("header uses indefinite or reserved CBOR lengths")),
    };
    let bytes = take(h, width)?;
    Ok(bytes.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b)))
}

fn take<'a>(h: &mut &'a [u8], len: u64) -> Result<&'a [u8], Error> {
    let len = usize::try_from(len)
        .ok()
        .filter(|&l| l <= h.len())
        .ok_or_else(|| car("header is truncated"))?;
    let (value, rest) = h.split_at(len);
    *h = rest;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipfs::{add, cat, MemBlockStore};
    use proptest::prelude::*;

    fn car_of(data: &[u8]) -> (Cid, MemBlockStore, Vec<u8>) {
        let mut store = MemBlockStore::default();
        let root = add(&mut &data[..], &mut store).unwrap();
        let mut car = Vec::new();
        export_car(&root, &store, &mut car).unwrap();
        (root, store, car)
    }

    fn data(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31) ^ seed ^ (i >> 9) as u8)
            .collect()
    }

    #[test]
    fn header_matches_the_dag_cbor_that_kubo_writes() {
        let root: Cid = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
            .parse()
            .unwrap();
        let h = header(&root);
        // a2 65 "roots" 81 d8 2a 58 25 00 <36 CID bytes> 67 "version" 01
        assert_eq!(
            &h[..10],
            &[0xa2, 0x65, b'r', b'o', b'o', b't', b's', 0x81, 0xd8, 0x2a]
        );
        assert_eq!(&h[10..13], &[0x58, 0x25, 0x00]);
        assert_eq!(&h[13..49], &root.to_bytes()[..]);
        assert_eq!(&h[49..], b"\x67version\x01");
        assert_eq!(parse_header(&h).unwrap(), vec![root]);
    }

    #[test]
    fn blocks_come_out_depth_first_and_once() {
        // Three identical chunks and a different last one: the leaf repeats.
        let mut input = vec![7u8; 3 * 262_144];
        input.extend_from_slice(b"tail");
        let (root, store, car) = car_of(&input);
        let mut r = &car[..];
        let mut cids = Vec::new();
        section(&mut r, MAX_HEADER, "header").unwrap().unwrap();
        while let Some(s) = section(&mut r, MAX_SECTION, "s").unwrap() {
            cids.push(Cid::read_bytes(&mut &s[..]).unwrap());
        }
        let links = dagpb::links(&store.get(&root).unwrap()).unwrap();
        assert_eq!(cids, vec![root, links[0], links[3]]);
    }

    #[test]
    fn malformed_input_gets_one_line_errors() {
        let (_, _, car) = car_of(b"hello world");
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (vec![], "empty input"),
            (vec![0x80], "header length is truncated"),
            (vec![0x05, 0xa1], "header is truncated"),
            (vec![0xff, 0xff, 0xff, 0x7f], "over the 65536-byte limit"),
            (car[..car.len() - 1].to_vec(), "block section is truncated"),
            ([&car[..], &[0x00]].concat(), "block section is empty"),
            (
                [&car[..], &[0x80, 0x80, 0x80, 0x04]].concat(),
                "over the 4194304-byte limit",
            ),
            (b"\x0a\xa1\x67version\x02".to_vec(), "CARv2"),
            (b"\x0a\xa1\x67version\x01".to_vec(), "no root"),
        ];
        for (input, want) in cases {
            let err = import_car(&input[..], &mut MemBlockStore::default()).unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains(want), "{msg:?} lacks {want:?}");
            assert!(!msg.contains('\n'));
        }
        let mut flipped = car.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(matches!(
            import_car(&flipped[..], &mut MemBlockStore::default()),
            Err(Error::BlockMismatch(_))
        ));
    }

    /// A CAR section: the CID and its block behind their length.
    fn framed(cid: &Cid, block: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        varint::write((cid.to_bytes().len() + block.len()) as u64, &mut out);
        out.extend_from_slice(&cid.to_bytes());
        out.extend_from_slice(block);
        out
    }

    /// The CAR header of `root`, framed.
    fn framed_header(root: &Cid) -> Vec<u8> {
        let h = header(root);
        let mut out = Vec::new();
        varint::write(h.len() as u64, &mut out);
        out.extend_from_slice(&h);
        out
    }

    #[test]
    fn a_dag_import_takes_the_dag_and_stops_reading_once_it_is_whole() {
        let input = data(600_000, 3);
        let (root, store, car) = car_of(&input);
        let (other, other_store, _) = car_of(b"an unrelated block");
        let unrelated = framed(&other, &other_store.get(&other).unwrap());
        // Whatever follows a whole DAG is never read.
        let trailing = [&car[..], &unrelated[..], b"\xff\xff garbage"].concat();
        let mut back = MemBlockStore::default();
        import_dag(&trailing[..], &root, &mut back).unwrap();
        assert_eq!(back.len(), store.len());
        let mut out = Vec::new();
        cat(&root, &back, &mut out).unwrap();
        assert!(out == input);
    }

    #[test]
    fn a_dag_import_refuses_stray_repeated_missing_and_foreign_blocks() {
        let (root, store, car) = car_of(&data(600_000, 4));
        let root_block = store.get(&root).unwrap();
        let links = dagpb::links(&root_block).unwrap();
        let leaf = |i: usize| framed(&links[i], &store.get(&links[i]).unwrap());
        let (other, other_store, _) = car_of(b"an unrelated block");
        let unrelated = framed(&other, &other_store.get(&other).unwrap());
        let head = [framed_header(&root), framed(&root, &root_block)].concat();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            // Before the root, after it, and in place of a leaf.
            (
                [&framed_header(&root)[..], &unrelated[..]].concat(),
                "is not part of the DAG",
            ),
            (
                [&head[..], &unrelated[..]].concat(),
                "is not part of the DAG",
            ),
            // A leaf before the block that names it.
            (
                [&framed_header(&root)[..], &leaf(0)[..]].concat(),
                "is not part of the DAG",
            ),
            // One leaf again and again: more bytes than the root declares.
            (
                [&head[..], &leaf(0), &leaf(0), &leaf(0), &leaf(0)].concat(),
                "more than the",
            ),
            (car[..car.len() - 300_000].to_vec(), "truncated"),
            ([&head[..], &leaf(0)[..]].concat(), "missing"),
            (framed_header(&other), "asked for the DAG under"),
        ];
        for (input, want) in cases {
            let mut back = MemBlockStore::default();
            let msg = import_dag(&input[..], &root, &mut back)
                .unwrap_err()
                .to_string();
            assert!(msg.contains(want), "{msg:?} lacks {want:?}");
            assert!(!msg.contains('\n'));
            assert!(back.get(&other).is_err(), "nothing unrelated is stored");
        }
        // A block that lies about its content is caught before its links are read.
        let mut lying = framed(&root, &root_block);
        *lying.last_mut().unwrap() ^= 1;
        let input = [&framed_header(&root)[..], &lying[..]].concat();
        assert!(matches!(
            import_dag(&input[..], &root, &mut MemBlockStore::default()),
            Err(Error::BlockMismatch(_))
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]
        #[test]
        fn export_then_import_round_trips(len in 0usize..700_000, seed in any::<u8>()) {
            let input = data(len, seed);
            let (root, store, car) = car_of(&input);
            let mut back = MemBlockStore::default();
            prop_assert_eq!(import_car(&car[..], &mut back).unwrap(), vec![root]);
            prop_assert_eq!(back.len(), store.len());
            let mut out = Vec::new();
            cat(&root, &back, &mut out).unwrap();
            prop_assert!(out == input);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn truncation_and_bit_flips_never_panic(cut in any::<prop::sample::Index>(),
                                                flip in any::<prop::sample::Index>(),
                                                bit in 0u8..8) {
            // Two leaves and a root, so cuts and flips land in every kind of field.
            let (_, _, car) = car_of(&data(300_000, 5));
            let cut = cut.index(car.len());
            let truncated = import_car(&car[..cut], &mut MemBlockStore::default());
            prop_assert!(truncated.is_err() || is_boundary(&car, cut));
            let mut flipped = car.clone();
            flipped[flip.index(car.len())] ^= 1 << bit;
            if let Err(e) = import_car(&flipped[..], &mut MemBlockStore::default()) {
                prop_assert!(!e.to_string().contains('\n'));
            }
        }
    }

    /// Whether `at` falls between two sections (a CAR cut there is still whole).
    fn is_boundary(car: &[u8], at: usize) -> bool {
        let mut r = car;
        loop {
            if car.len() - r.len() == at {
                return true;
            }
            match section(&mut r, MAX_SECTION, "s") {
                Ok(Some(_)) if car.len() - r.len() <= at => continue,
                _ => return false,
            }
        }
    }
}
