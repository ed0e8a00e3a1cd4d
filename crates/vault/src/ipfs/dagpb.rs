//! The links of a dag-pb node, which is all a DAG walk needs from it.
//! rust-unixfs keeps its protobuf types private and its walkers follow UnixFS
//! (files and directories only), so the two protobuf fields are read here.

use super::varint;
use crate::Error;
use cid::Cid;

const LEN: u64 = 2;

/// The CIDs a dag-pb block links to, in link order.
pub(crate) fn links(block: &[u8]) -> Result<Vec<Cid>, Error> {
    let mut links = Vec::new();
    let mut node = block;
    while !node.is_empty() {
        let (number, value) = field(&mut node)?;
        // PBNode: 2 = Links (repeated PBLink), 1 = Data; PBLink: 1 = Hash.
        if number == 2 {
            let mut link = value.ok_or_else(bad)?;
            while !link.is_empty() {
                if let (1, Some(hash)) = field(&mut link)? {
                    links.push(Cid::try_from(hash).map_err(|e| bad_with(&e.to_string()))?);
                }
            }
        }
    }
    Ok(links)
}

/// Reads one protobuf field: its number and, for length-delimited ones, its bytes.
fn field<'a>(input: &mut &'a [u8]) -> Result<(u64, Option<&'a [u8]>), Error> {
    let key = varint::read_slice(input).map_err(|_| bad())?;
    let (number, wire) = (key >> 3, key & 7);
    match wire {
        0 => varint::read_slice(input)
            .map(|_| (number, None))
            .map_err(|_| bad()),
        LEN => {
            let len = varint::read_slice(input).map_err(|_| bad())?;
            let len = usize::try_from(len).map_err(|_| bad())?;
            if len > input.len() {
                return Err(bad());
            }
            let (value, rest) = input.split_at(len);
            *input = rest;
            Ok((number, Some(value)))
        }
        _ => Err(bad()),
    }
}

fn bad() -> Error {
    bad_with("bad protobuf framing")
}

fn bad_with(why: &str) -> Error {
    Error::Ipfs(format!("malformed dag-pb node: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipfs::{add, BlockStore, MemBlockStore};

    #[test]
    fn finds_every_leaf_of_a_unixfs_root_and_refuses_garbage() {
        let mut store = MemBlockStore::default();
        let root = add(&mut &vec![1u8; 3 * 262_144][..], &mut store).unwrap();
        let found = links(&store.get(&root).unwrap()).unwrap();
        assert_eq!(found.len(), 3);
        assert!(found.iter().all(|l| l.codec() == 0x55));
        assert!(links(&[0x12, 0x05, 0x0a]).is_err());
        assert!(links(&[0x13]).is_err());
    }
}
