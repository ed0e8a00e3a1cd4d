//! Who gets a record's key: the patient always, its emergency custodians always
//! (they release keys when the patient cannot act), and every doctor whose grant
//! covers the record now. A doctor who holds an emergency window is never a reader
//! by that alone: its keys come from the custodians, or from the patient only when
//! the patient names it (`grants sync --confirm-emergency DOCTOR`).

use crate::chain::logs;
use crate::context::Ctx;
use crate::deployment::Deployment;
use crate::error::{Error, Result};
use crate::events;
use alloy::primitives::{Address, Bytes, B256, U256};
use careledger_vault::{wrap, RecordContext, RecordKey};

/// A reader and the X25519 key they registered.
pub(crate) struct Reader {
    pub(crate) address: Address,
    pub(crate) public_key: [u8; 32],
}

/// Every grant, revocation and emergency event of the deployment, oldest first.
pub(crate) async fn token_events(ctx: &Ctx, d: &Deployment) -> Result<Vec<events::Event>> {
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

/// Doctors that `patient` ever granted; whether a grant covers a given record
/// now is asked of the chain ([`grant_covers`]).
pub(crate) async fn grantees(ctx: &Ctx, d: &Deployment, patient: Address) -> Result<Vec<Address>> {
    let mut doctors = Vec::new();
    for e in token_events(ctx, d).await? {
        if e.kind == "AccessGranted" && e.patient == Some(patient) {
            if let Some(doctor) = e.actor {
                if !doctors.contains(&doctor) {
                    doctors.push(doctor);
                }
            }
        }
    }
    Ok(doctors)
}

/// Whether one of `patient`'s live grants to `doctor` covers `record_id` (of
/// `category`) at chain time `now`, and the doctor is verified. Asked grant by
/// grant, because `checkAccess` also says yes for an open emergency window, which
/// must not make anyone a reader.
pub(crate) async fn grant_covers(
    ctx: &Ctx,
    d: &Deployment,
    patient: Address,
    doctor: Address,
    record_id: U256,
    category: B256,
    now: u64,
) -> Result<bool> {
    let token = ctx.token(d);
    let ids = ctx.view(token.tokensOf(patient, doctor)).await?;
    let mut covered = false;
    for id in ids {
        let g = ctx.view(token.grantInfo(id)).await?;
        let (expires_at, kind, granted_category) = (g._3, g._4, g._5);
        if expires_at <= now {
            continue;
        }
        // The kinds of `Scope::kind`: 0 all, 1 listed records, 2 a category.
        covered = match kind {
            0 => true,
            1 => ctx.view(token.grantRecords(id)).await?.contains(&record_id),
            _ => !category.is_zero() && category == granted_category,
        };
        if covered {
            break;
        }
    }
    if !covered {
        return Ok(false);
    }
    ctx.view(ctx.registry(d).isVerifiedDoctor(doctor)).await
}

/// `patient`'s emergency custodians.
pub(crate) async fn custodians(
    ctx: &Ctx,
    d: &Deployment,
    patient: Address,
) -> Result<Vec<Address>> {
    ctx.view(ctx.registry(d).emergencyCustodians(patient)).await
}

/// Whether `doctor` holds an open emergency window on `patient` and is verified now.
pub(crate) async fn emergency_open(
    ctx: &Ctx,
    d: &Deployment,
    patient: Address,
    doctor: Address,
) -> Result<bool> {
    ctx.view(ctx.token(d).hasEmergencyAccess(patient, doctor))
        .await
}

pub(crate) async fn encryption_key(
    ctx: &Ctx,
    d: &Deployment,
    account: Address,
) -> Result<[u8; 32]> {
    let key = ctx.view(ctx.registry(d).encryptionKey(account)).await?;
    if key == B256::ZERO {
        return Err(Error::NoEncryptionKey(account));
    }
    Ok(key.0)
}

pub(crate) async fn reader(ctx: &Ctx, d: &Deployment, account: Address) -> Result<Reader> {
    Ok(Reader {
        address: account,
        public_key: encryption_key(ctx, d, account).await?,
    })
}

/// The readers of `record_id` (of `category`): the patient, its custodians, and
/// every grantee whose grant covers it now.
pub(crate) async fn readers(
    ctx: &Ctx,
    d: &Deployment,
    patient: Address,
    record_id: U256,
    category: B256,
    grantees: &[Address],
) -> Result<Vec<Reader>> {
    let mut readers = vec![reader(ctx, d, patient).await?];
    for custodian in custodians(ctx, d, patient).await? {
        readers.push(reader(ctx, d, custodian).await?);
    }
    let now = ctx.chain_time().await?;
    for &doctor in grantees {
        if doctor == patient || readers.iter().any(|r| r.address == doctor) {
            continue;
        }
        if grant_covers(ctx, d, patient, doctor, record_id, category, now).await? {
            readers.push(reader(ctx, d, doctor).await?);
        }
    }
    Ok(readers)
}

/// Opens `own` (the caller's wrapped key of `patient`'s record `record_id`,
/// `version`) with the caller's record key and publishes it wrapped for
/// `readers` with one `wrapKeys` transaction: a patient sharing, or a custodian
/// releasing in an emergency.
pub(crate) async fn rewrap_for(
    ctx: &Ctx,
    d: &Deployment,
    patient: Address,
    record_id: U256,
    version: u32,
    own: &Bytes,
    readers: &[Reader],
) -> Result<()> {
    let rctx = RecordContext {
        chain_id: d.chain_id,
        registry: d.record_registry,
        patient,
        record_id,
    };
    let key = wrap::unwrap(own, &ctx.reader_key()?, &rctx)?;
    let (readers, wrapped_keys) = wrap_for(&key, &rctx, readers)?;
    let call = crate::abi::IRecordRegistry::wrapKeysCall {
        record_id,
        version,
        readers,
        wrapped_keys,
    };
    ctx.transact(d.record_registry, call).await?;
    Ok(())
}

/// `key` wrapped for each reader, as `addRecord`/`wrapKeys` take them.
pub(crate) fn wrap_for(
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
pub(crate) async fn published_key(
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
                Err(ctx.call_error(e))
            }
        }
    }
}
