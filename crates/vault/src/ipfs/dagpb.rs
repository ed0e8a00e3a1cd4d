//! dag-pb, the protobuf node of UnixFS DAGs, read in the three ways its users
//! need: [`check`], the strict spec check of a block before it is stored as
//! dag-pb; the links a DAG walk follows (CAR export and import); and
//! [`file_size`], the size a UnixFS file's root declares.
//!
//! rust-unixfs keeps its protobuf types private and its walkers follow UnixFS
//! (files and directories only), so the few protobuf fields needed are read
//! here, on one field reader and the crate's varints (at most 9 bytes and
//! minimally encoded, as multiformats asks). Every error is
//! [`Error::DagPb`], its text the reason.

use super::varint::{self, Bad};
use crate::Error;
use cid::Cid;

/// The protobuf wire types dag-pb uses; any other is refused.
const VARINT: u64 = 0;
const LEN: u64 = 2;

/// Whether bytes are a dag-pb node, checked before `block/put --cid-codec=dag-pb`
/// stores them: a block filed under the wrong codec (a raw leaf, a flipped byte)
/// would otherwise break every later walk of the DAG. The strict form of the
/// spec (ipld.io/specs/codecs/dag-pb): PBNode = Links (field 2, repeated) then
/// Data (field 1, optional); PBLink = Hash (1, a CID), Name (2, UTF-8), Tsize
/// (3, varint), in that order, each at most once. The empty block is the empty
/// node, and passes.
pub fn check(block: &[u8]) -> Result<(), Error> {
    let mut node = block;
    let mut seen_data = false;
    while !node.is_empty() {
        match field(&mut node)? {
            (2, Value::Bytes(link)) if !seen_data => check_link(link)?,
            (1, Value::Bytes(_)) if !seen_data => seen_data = true,
            (number, _) => return Err(bad(format!("unexpected field {number} in a PBNode"))),
        }
    }
    Ok(())
}

fn check_link(mut link: &[u8]) -> Result<(), Error> {
    let (mut last, mut hashed) = (0, false);
    while !link.is_empty() {
        let (number, value) = field(&mut link)?;
        if number <= last {
            return Err(bad("PBLink fields out of order or repeated"));
        }
        last = number;
        match (number, value) {
            (1, Value::Bytes(hash)) => {
                hash_cid(hash)?;
                hashed = true;
            }
            (2, Value::Bytes(name)) => {
                std::str::from_utf8(name).map_err(|_| bad("a link's name is not UTF-8"))?;
            }
            (3, Value::Varint(_)) => {}
            (number, _) => return Err(bad(format!("unexpected field {number} in a PBLink"))),
        }
    }
    if !hashed {
        return Err(bad("a link without a hash"));
    }
    Ok(())
}

/// The CIDs a dag-pb block links to, in link order.
pub(crate) fn links(block: &[u8]) -> Result<Vec<Cid>, Error> {
    Ok(sized_links(block)?
        .into_iter()
        .map(|(cid, _)| cid)
        .collect())
}

/// The CIDs a dag-pb block links to, in link order, each with the size the link
/// declares for the DAG below it (`Tsize`: the bytes of all its blocks), if any.
/// Lenient where [`check`] is strict: fields it does not need are skipped.
pub(crate) fn sized_links(block: &[u8]) -> Result<Vec<(Cid, Option<u64>)>, Error> {
    let mut links = Vec::new();
    let mut node = block;
    while !node.is_empty() {
        // PBNode: 2 = Links (repeated PBLink), 1 = Data; PBLink: 1 = Hash, 3 = Tsize.
        let mut link = match field(&mut node)? {
            (2, Value::Bytes(link)) => link,
            (2, Value::Varint(_)) => return Err(bad("a PBNode's Links field is a varint")),
            _ => continue,
        };
        let (mut hash, mut tsize) = (None, None);
        while !link.is_empty() {
            match field(&mut link)? {
                (1, Value::Bytes(h)) => hash = Some(hash_cid(h)?),
                (3, Value::Varint(n)) => tsize = Some(n),
                _ => {}
            }
        }
        links.push((hash.ok_or_else(|| bad("a link without a hash"))?, tsize));
    }
    Ok(links)
}

/// The size a UnixFS file's root node declares (its `filesize`, else its own
/// data and its children's `blocksizes`); `None` if it is not one. What `cat`
/// checks against its bound before it starts; the stream counts as well, so a
/// root that understates its size is cut short all the same.
pub fn file_size(block: &[u8]) -> Option<u64> {
    let mut node = block;
    let mut data: &[u8] = &[];
    while !node.is_empty() {
        if let (1, Value::Bytes(d)) = field(&mut node).ok()? {
            data = d;
        }
    }
    let (mut filesize, mut own, mut children) = (None, 0u64, 0u64);
    let mut unixfs = data;
    while !unixfs.is_empty() {
        match field(&mut unixfs).ok()? {
            (2, Value::Bytes(d)) => own = d.len() as u64,
            (3, Value::Varint(n)) => filesize = Some(n),
            (4, Value::Varint(n)) => children = children.saturating_add(n),
            // blocksizes packed, as some encoders write them
            (4, Value::Bytes(mut packed)) => {
                while !packed.is_empty() {
                    children = children.saturating_add(read_varint(&mut packed).ok()?);
                }
            }
            _ => {}
        }
    }
    Some(filesize.unwrap_or(0).max(own.saturating_add(children)))
}

/// A link's hash, which must be a whole CID.
fn hash_cid(hash: &[u8]) -> Result<Cid, Error> {
    Cid::try_from(hash).map_err(|e| bad(format!("a link's hash is not a CID: {e}")))
}

enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

/// Reads one protobuf field from the front of `input`: its number and its value.
fn field<'a>(input: &mut &'a [u8]) -> Result<(u64, Value<'a>), Error> {
    let key = read_varint(input)?;
    let number = key >> 3;
    match key & 7 {
        VARINT => Ok((number, Value::Varint(read_varint(input)?))),
        LEN => {
            let len = usize::try_from(read_varint(input)?)
                .map_err(|_| bad("a field's length overflows"))?;
            if len > input.len() {
                return Err(bad("a field runs past the end of the block"));
            }
            let (value, rest) = input.split_at(len);
            *input = rest;
            Ok((number, Value::Bytes(value)))
        }
        wire => Err(bad(format!("wire type {wire} is not used by dag-pb"))),
    }
}

fn read_varint(input: &mut &[u8]) -> Result<u64, Error> {
    varint::read_slice(input).map_err(|e| {
        bad(match e {
            Bad::Truncated => "a varint runs past the end of the block",
            Bad::Malformed => "a varint is longer than 9 bytes or not minimally encoded",
        })
    })
}

fn bad(why: impl Into<String>) -> Error {
    Error::DagPb(why.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipfs::codec::RAW;
    use crate::ipfs::{add, BlockStore, MemBlockStore};

    #[test]
    fn finds_every_leaf_of_a_unixfs_root_and_refuses_garbage() {
        let mut store = MemBlockStore::default();
        let root = add(&mut &vec![1u8; 3 * 262_144][..], &mut store).unwrap();
        let found = links(&store.get(&root).unwrap()).unwrap();
        assert_eq!(found.len(), 3);
        assert!(found.iter().all(|l| l.codec() == RAW));
        // kubo's Tsize of a raw leaf is the leaf's length.
        let sized = sized_links(&store.get(&root).unwrap()).unwrap();
        assert!(sized.iter().all(|(_, size)| *size == Some(262_144)));
        assert!(links(&[0x12, 0x05, 0x0a]).is_err());
        assert!(links(&[0x13]).is_err());
    }

    #[test]
    fn unixfs_nodes_pass_and_raw_bytes_do_not() {
        let mut store = MemBlockStore::default();
        let data = vec![7u8; 600_000];
        let root = add(&mut &data[..], &mut store).unwrap();
        let block = store.get(&root).unwrap();
        assert!(check(&block).is_ok());
        assert!(check(b"").is_ok(), "the empty node");
        assert!(check(b"hello world").is_err());
        assert!(check(&block[..block.len() - 1]).is_err(), "truncated");
        let mut tampered = block.clone();
        tampered[0] = 0x1a; // field 3: no such PBNode field
        let refused = check(&tampered).unwrap_err();
        assert!(matches!(refused, Error::DagPb(_)), "{refused:?}");
        assert_eq!(
            refused.to_string(),
            "malformed dag-pb node: unexpected field 3 in a PBNode"
        );
        assert_eq!(file_size(&block), Some(600_000));
    }

    #[test]
    fn links_must_be_in_order_each_once_and_have_a_hash() {
        let mut store = MemBlockStore::default();
        let leaf = add(&mut &b"leaf"[..], &mut store).unwrap().to_bytes();
        // One PBLink in a PBNode (field 2) from its fields, each (key, bytes).
        let node = |fields: &[(u8, &[u8])]| {
            let mut link = Vec::new();
            for (key, bytes) in fields {
                link.push(*key);
                link.extend_from_slice(bytes);
            }
            let mut node = vec![0x12, link.len() as u8];
            node.extend_from_slice(&link);
            node
        };
        let hash = [&[leaf.len() as u8][..], &leaf].concat();
        let name = b"\x01a";
        assert!(check(&node(&[(0x0a, &hash), (0x12, name), (0x18, &[4])])).is_ok());
        assert!(check(&node(&[(0x0a, &hash)])).is_ok());
        let named = [(0x12, &name[..]), (0x0a, &hash[..])];
        let out_of_order = check(&node(&named)).unwrap_err().to_string();
        assert!(out_of_order.contains("out of order"), "{out_of_order}");
        assert!(check(&node(&[(0x0a, &hash), (0x0a, &hash)])).is_err());
        for hashless in [&[][..], &[(0x12, &name[..]), (0x18, &[4][..])]] {
            let no_hash = check(&node(hashless)).unwrap_err().to_string();
            assert!(no_hash.contains("without a hash"), "{no_hash}");
        }
        assert!(check(&node(&[(0x0a, &hash), (0x12, b"\x01\xff")])).is_err());
        // A non-minimal varint (4 as 0x84 0x00) is refused, strictly and not.
        let padded = node(&[(0x0a, &hash), (0x18, &[0x84, 0x00])]);
        assert!(check(&padded).is_err());
        assert!(sized_links(&padded).is_err());
    }
}
