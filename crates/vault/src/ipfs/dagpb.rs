//! The links of a dag-pb node, which is all a DAG walk needs from it.
//! rust-unixfs keeps its protobuf types private and its walkers follow UnixFS
//! (files and directories only), so the few protobuf fields needed are read here.

use super::varint;
use crate::Error;
use cid::Cid;

const LEN: u64 = 2;

/// The CIDs a dag-pb block links to, in link order.
pub(crate) fn links(block: &[u8]) -> Result<Vec<Cid>, Error> {
    Ok(sized_links(block)?
        .into_iter()
        .map(|(cid, _)| cid)
        .collect())
}

/// The CIDs a dag-pb block links to, in link order, each with the size the link
/// declares for the DAG below it (`Tsize`: the bytes of all its blocks), if any.
pub(crate) fn sized_links(block: &[u8]) -> Result<Vec<(Cid, Option<u64>)>, Error> {
    let mut links = Vec::new();
    let mut node = block;
    while !node.is_empty() {
        // PBNode: 2 = Links (repeated PBLink), 1 = Data; PBLink: 1 = Hash, 3 = Tsize.
        let mut link = match field(&mut node)? {
            (2, Value::Bytes(link)) => link,
            (2, Value::Varint(_)) => return Err(bad()),
            _ => continue,
        };
        let (mut hash, mut tsize) = (None, None);
        while !link.is_empty() {
            match field(&mut link)? {
                (1, Value::Bytes(h)) => {
                    hash = Some(Cid::try_from(h).map_err(|e| bad_with(&e.to_string()))?)
                }
                (3, Value::Varint(n)) => tsize = Some(n),
                _ => {}
            }
        }
        links.push((
            hash.ok_or_else(|| bad_with("a link without a hash"))?,
            tsize,
        ));
    }
    Ok(links)
}

enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

/// Reads one protobuf field: its number and its value.
fn field<'a>(input: &mut &'a [u8]) -> Result<(u64, Value<'a>), Error> {
    let key = varint::read_slice(input).map_err(|_| bad())?;
    let (number, wire) = (key >> 3, key & 7);
    match wire {
        0 => varint::read_slice(input)
            .map(|n| (number, Value::Varint(n)))
            .map_err(|_| bad()),
        LEN => {
            let len = varint::read_slice(input).map_err(|_| bad())?;
            let len = usize::try_from(len).map_err(|_| bad())?;
            if len > input.len() {
                return Err(bad());
            }
            let (value, rest) = input.split_at(len);
            *input = rest;
            Ok((number, Value::Bytes(value)))
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
        // kubo's Tsize of a raw leaf is the leaf's length.
        let sized = sized_links(&store.get(&root).unwrap()).unwrap();
        assert!(sized.iter().all(|(_, size)| *size == Some(262_144)));
        assert!(links(&[0x12, 0x05, 0x0a]).is_err());
        assert!(links(&[0x13]).is_err());
    }
}
