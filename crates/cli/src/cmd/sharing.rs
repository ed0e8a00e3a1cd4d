//! Who may read a record, and their wrapped keys: the patient always, and every
//! doctor whose grant (or open emergency window) covers the record now.

use crate::chain::{call_error, logs};
use crate::context::Ctx;
use crate::deployment::Deployment;
use crate::error::{Error, Result};
use crate::events;
use alloy::primitives::{Address, Bytes, B256, U256};
use careledger_vault::{wrap, RecordContext, RecordKey};

/// A reader and the X25519 key they registered.
pub struct Reader {
    pub address: Address,
    pub public_key: [u8; 32],
}

/// Every grant, revocation and emergency event of the deployment, oldest first.
pub async fn token_events(ctx: &Ctx, d: &Deployment) -> Result<Vec<events::Event>> {
    let all = logs(
        &ctx.provider,
        &ctx.url,
        vec![d.access_token],
        d.deploy_block,
        None,
    )
    .await?;
    Ok(all.iter().filter_map(events::decode).collect())
}

/// Doctors that were ever granted (or opened emergency access to) `patient`'s
/// records; whether each may read a given record now is asked of the chain.
pub async fn candidate_doctors(
    ctx: &Ctx,
    d: &Deployment,
    patient: Address,
) -> Result<Vec<Address>> {
    let mut doctors = Vec::new();
    for e in token_events(ctx, d).await? {
        if matches!(e.kind, "AccessGranted" | "EmergencyAccess") && e.patient == Some(patient) {
            if let Some(doctor) = e.actor {
                if !doctors.contains(&doctor) {
                    doctors.push(doctor);
                }
            }
        }
    }
    Ok(doctors)
}

pub async fn encryption_key(ctx: &Ctx, d: &Deployment, account: Address) -> Result<[u8; 32]> {
    let key = ctx
        .registry(d)
        .encryptionKey(account)
        .call()
        .await
        .map_err(|e| call_error(&ctx.url, e))?;
    if key == B256::ZERO {
        return Err(Error::NoEncryptionKey(account));
    }
    Ok(key.0)
}

/// The patient and every candidate doctor who may read `record_id` (of `category`) now.
pub async fn readers(
    ctx: &Ctx,
    d: &Deployment,
    patient: Address,
    record_id: U256,
    category: B256,
    candidates: &[Address],
) -> Result<Vec<Reader>> {
    let mut readers = vec![Reader {
        address: patient,
        public_key: encryption_key(ctx, d, patient).await?,
    }];
    for &doctor in candidates {
        let allowed = ctx
            .token(d)
            .checkAccess(patient, doctor, record_id, category)
            .call()
            .await
            .map_err(|e| call_error(&ctx.url, e))?;
        if allowed && doctor != patient {
            readers.push(Reader {
                address: doctor,
                public_key: encryption_key(ctx, d, doctor).await?,
            });
        }
    }
    Ok(readers)
}

/// `key` wrapped for each reader, as `addRecord`/`wrapKeys` take them.
pub fn wrap_for(
    key: &RecordKey,
    rctx: &RecordContext,
    readers: &[Reader],
) -> Result<(Vec<Address>, Vec<Bytes>)> {
    let mut addresses = Vec::with_capacity(readers.len());
    let mut wrapped = Vec::with_capacity(readers.len());
    for r in readers {
        addresses.push(r.address);
        wrapped.push(wrap::wrap(key, &r.public_key, rctx)?.into());
    }
    Ok((addresses, wrapped))
}

/// The wrapped key published for `reader` on a version, or `None` if there is none.
pub async fn published_key(
    ctx: &Ctx,
    d: &Deployment,
    caller: Address,
    record_id: U256,
    version: u32,
    reader: Address,
) -> Result<Option<Bytes>> {
    match ctx
        .records(d)
        .wrappedKey(record_id, version, reader)
        .from(caller)
        .call()
        .await
    {
        Ok(key) => Ok(Some(key)),
        Err(e) => {
            let missing = e
                .as_decoded_interface_error::<crate::abi::IRecordRegistry::IRecordRegistryErrors>()
                .is_some_and(|e| {
                    matches!(
                        e,
                        crate::abi::IRecordRegistry::IRecordRegistryErrors::NoWrappedKey(_)
                    )
                });
            if missing {
                Ok(None)
            } else {
                Err(call_error(&ctx.url, e))
            }
        }
    }
}
