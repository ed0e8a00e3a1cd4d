//! Whether bytes are a dag-pb node, checked before `block/put --cid-codec=dag-pb`
//! stores them: a block filed under the wrong codec (a raw leaf, a flipped byte)
//! would otherwise break every later walk of the DAG. The strict form of the
//! spec (ipld.io/specs/codecs/dag-pb): PBNode = Links (field 2, repeated) then
//! Data (field 1, optional); PBLink = Hash (1, a CID), Name (2, UTF-8), Tsize
//! (3, varint), in that order, each at most once.

use careledger_vault::ipfs::Cid;

pub(super) fn check(block: &[u8]) -> Result<(), String> {
    let mut node = block;
    let mut seen_data = false;
    while !node.is_empty() {
        match field(&mut node)? {
            (2, Value::Bytes(link)) if !seen_data => check_link(link)?,
            (1, Value::Bytes(_)) if !seen_data => seen_data = true,
            (number, _) => return Err(format!("unexpected field {number} in a PBNode")),
        }
    }
    Ok(())
}

fn check_link(mut link: &[u8]) -> Result<(), String> {
    let mut last = 0;
    while !link.is_empty() {
        let (number, value) = field(&mut link)?;
        if number <= last {
            return Err("PBLink fields out of order or repeated".into());
        }
        last = number;
        match (number, value) {
            (1, Value::Bytes(hash)) => {
                Cid::try_from(hash).map_err(|e| format!("a link's hash is not a CID: {e}"))?;
            }
            (2, Value::Bytes(name)) => {
                std::str::from_utf8(name).map_err(|_| "a link's name is not UTF-8".to_string())?;
            }
            (3, Value::Varint(_)) => {}
            (number, _) => return Err(format!("unexpected field {number} in a PBLink")),
        }
    }
    if last == 0 {
        return Err("a link without a hash".into());
    }
    Ok(())
}

/// The size a UnixFS file's root node declares (its `filesize`, else its own
/// data and its children's `blocksizes`); `None` if it is not one. What `cat`
/// checks against its bound before it starts; the stream counts as well, so a
/// root that understates its size is cut short all the same.
pub(super) fn file_size(block: &[u8]) -> Option<u64> {
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
                    children = children.saturating_add(varint(&mut packed).ok()?);
                }
            }
            _ => {}
        }
    }
    Some(filesize.unwrap_or(0).max(own.saturating_add(children)))
}

enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

fn field<'a>(input: &mut &'a [u8]) -> Result<(u64, Value<'a>), String> {
    let key = varint(input)?;
    match key & 7 {
        0 => varint(input).map(|v| (key >> 3, Value::Varint(v))),
        2 => {
            let len = usize::try_from(varint(input)?).map_err(|_| "length overflows")?;
            if len > input.len() {
                return Err("a field runs past the end of the block".into());
            }
            let (value, rest) = input.split_at(len);
            *input = rest;
            Ok((key >> 3, Value::Bytes(value)))
        }
        wire => Err(format!("wire type {wire} is not used by dag-pb")),
    }
}

fn varint(input: &mut &[u8]) -> Result<u64, String> {
    let mut value = 0u64;
    for i in 0..10 {
        let (&byte, rest) = input.split_first().ok_or("a varint runs past the end")?;
        *input = rest;
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("a varint longer than 10 bytes".into())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn unixfs_nodes_pass_and_raw_bytes_do_not() {
        let mut store = careledger_vault::ipfs::MemBlockStore::default();
        let data = vec![7u8; 600_000];
        let root = careledger_vault::ipfs::add(&mut &data[..], &mut store).unwrap();
        use careledger_vault::ipfs::BlockStore;
        let block = store.get(&root).unwrap();
        assert!(check(&block).is_ok());
        assert!(check(b"").is_ok(), "the empty node");
        assert!(check(b"hello world").is_err());
        assert!(check(&block[..block.len() - 1]).is_err(), "truncated");
        let mut tampered = block.clone();
        tampered[0] = 0x1a; // field 3: no such PBNode field
        assert!(check(&tampered).is_err());
        assert_eq!(super::file_size(&block), Some(600_000));
    }
}
