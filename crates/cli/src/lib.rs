//! `careledger`: the CLI of CareLedger, as a library so that its commands can be
//! driven in-process (the demo) as well as from `main`.

pub mod abi;
pub mod chain;
pub mod cli;
pub mod cmd;
pub mod context;
pub mod deployment;
pub mod error;
pub mod events;
pub mod fsutil;
pub mod keystore;
pub mod output;
pub mod serve;
pub mod signals;

use cli::{
    Cli, Command, CustodianCmd, CustodiansCmd, DoctorCmd, EmergencyCmd, GrantsCmd, IpfsCmd,
    KeysCmd, NotifyCmd, PatientCmd, RecordCmd, VerifierCmd,
};
use context::Ctx;
use error::{Error, Result};
use output::Report;

/// The signing key: a keystore, else CARELEDGER_PRIVATE_KEY, else none (read-only).
fn signer(cli: &Cli) -> Result<Option<alloy::signers::local::PrivateKeySigner>> {
    if let Some(path) = &cli.global.keystore {
        let password = keystore::password(cli.global.password_file.as_deref())?;
        return Ok(Some(keystore::open(path, &password)?));
    }
    match std::env::var("CARELEDGER_PRIVATE_KEY") {
        Ok(key) if !key.trim().is_empty() => Ok(Some(keystore::from_env(&key)?)),
        _ => Ok(None),
    }
}

/// Runs one command; what it prints on success is the returned report.
pub async fn run(cli: Cli) -> Result<Option<Report>> {
    let g = &cli.global;
    if let Command::Keys(KeysCmd::New { out }) = &cli.command {
        let password = keystore::password(g.password_file.as_deref())?;
        if password.is_empty() {
            return Err(Error::Usage("refusing an empty keystore password".into()));
        }
        return cmd::keys::new(out, &password).map(Some);
    }
    if let Command::Demo {
        dir,
        contracts,
        web,
    } = &cli.command
    {
        if web.web.is_some() {
            cmd::demo::serve_web(web, dir.clone(), contracts, g.json).await?;
            return Ok(None);
        }
        // Ending the demo's future on Ctrl-C, instead of dying by the signal, drops
        // its guards: the temporary directory goes and the devnode stops.
        let mut stop = signals::Stop::listen()?;
        return tokio::select! {
            _ = stop.requested() => Err(Error::Interrupted("before the demo's end")),
            report = cmd::demo::run(dir.clone(), contracts) => report.map(Some),
        };
    }
    let mut ctx = Ctx::new(
        &g.rpc_url,
        signer(&cli)?,
        g.deployment.clone(),
        g.store.clone(),
        g.ipfs_api.clone(),
        !g.json,
    )?
    .with_timeout(std::time::Duration::from_secs(g.timeout))?;
    if let Some(path) = &g.web_key {
        ctx = ctx.with_web_key(cmd::keys::unlock_web_key(path)?);
    }
    let report = match &cli.command {
        Command::Deploy { contracts } => cmd::deploy::run(&ctx, contracts).await?.1,
        Command::Keys(KeysCmd::Show) => cmd::keys::show(&ctx)?,
        Command::Keys(KeysCmd::ExportWeb { out }) => cmd::keys::export_web(&ctx, out)?,
        Command::Keys(KeysCmd::New { .. }) | Command::Demo { .. } => unreachable!("handled above"),
        Command::Patient(PatientCmd::Register) => cmd::roles::register_patient(&ctx).await?,
        Command::Doctor(DoctorCmd::Register {
            licence,
            licence_salt,
        }) => cmd::roles::register_doctor_with_salt(&ctx, licence, *licence_salt).await?,
        Command::Doctor(DoctorCmd::CheckLicence {
            doctor,
            licence,
            salt,
        }) => cmd::roles::check_licence(&ctx, *doctor, licence, salt).await?,
        Command::Doctor(DoctorCmd::Verify { doctor }) => {
            cmd::roles::verify_doctor(&ctx, *doctor, false).await?
        }
        Command::Doctor(DoctorCmd::Suspend { doctor }) => {
            cmd::roles::verify_doctor(&ctx, *doctor, true).await?
        }
        Command::Doctor(DoctorCmd::Status { doctor }) => {
            cmd::roles::doctor_status(&ctx, *doctor).await?
        }
        Command::Verifier(VerifierCmd::Add { verifier }) => {
            cmd::roles::verifier(&ctx, *verifier, true).await?
        }
        Command::Verifier(VerifierCmd::Remove { verifier }) => {
            cmd::roles::verifier(&ctx, *verifier, false).await?
        }
        Command::Pause => cmd::roles::pause(&ctx, true).await?,
        Command::Unpause => cmd::roles::pause(&ctx, false).await?,
        Command::Verifier(VerifierCmd::Threshold { threshold }) => {
            cmd::roles::threshold(&ctx, *threshold).await?
        }
        Command::Record(RecordCmd::Add {
            file,
            category,
            as_fhir,
        }) => cmd::record::add(&ctx, file, category.as_ref(), *as_fhir).await?,
        Command::Record(RecordCmd::List { patient }) => cmd::record::list(&ctx, *patient).await?,
        Command::Record(RecordCmd::Get { id, output, force }) => {
            cmd::record::get_to(&ctx, *id, output, *force).await?
        }
        Command::Record(RecordCmd::Rekey { id }) => cmd::record::rekey(&ctx, *id).await?,
        Command::Grant {
            doctor,
            scope,
            expires,
        } => cmd::grants::grant(&ctx, *doctor, scope, *expires).await?,
        Command::Revoke { token } => cmd::grants::revoke(&ctx, *token).await?,
        Command::Grants(GrantsCmd::List { received, fhir }) => {
            cmd::grants::list(&ctx, *received, *fhir).await?
        }
        Command::Grants(GrantsCmd::Sync { confirm_emergency }) => {
            cmd::grants::sync(&ctx, confirm_emergency).await?
        }
        Command::Emergency(EmergencyCmd::Open { patient, reason }) => {
            cmd::emergency::open(&ctx, *patient, *reason).await?
        }
        Command::Emergency(EmergencyCmd::Close { doctor }) => {
            cmd::emergency::close(&ctx, *doctor).await?
        }
        Command::Emergency(EmergencyCmd::Lift { doctor }) => {
            cmd::emergency::lift(&ctx, *doctor).await?
        }
        Command::Emergency(EmergencyCmd::Custodians(CustodiansCmd::Set { custodians })) => {
            cmd::emergency::set_custodians(&ctx, custodians).await?
        }
        Command::Emergency(EmergencyCmd::Custodians(CustodiansCmd::Clear)) => {
            cmd::emergency::set_custodians(&ctx, &[]).await?
        }
        Command::Emergency(EmergencyCmd::Custodians(CustodiansCmd::Show { patient })) => {
            cmd::emergency::show_custodians(&ctx, *patient).await?
        }
        Command::Emergency(EmergencyCmd::Status { patient }) => {
            cmd::emergency::status(&ctx, *patient).await?
        }
        Command::Emergency(EmergencyCmd::Limit { limit }) => {
            cmd::emergency::set_limit(&ctx, *limit).await?
        }
        Command::Custodian(CustodianCmd::Watch { poll_secs, once }) => {
            match cmd::custodian::watch(&ctx, *poll_secs, *once, g.json).await? {
                Some(report) => report,
                None => return Ok(None),
            }
        }
        Command::Notify(NotifyCmd::Register { email, notifier }) => {
            cmd::notify::contact(&ctx, notifier, Some(email)).await?
        }
        Command::Notify(NotifyCmd::Confirm { code, notifier }) => {
            cmd::notify::confirm(&ctx, notifier, code).await?
        }
        Command::Notify(NotifyCmd::Status { account, notifier }) => {
            cmd::notify::status(&ctx, notifier, *account).await?
        }
        Command::Notify(NotifyCmd::Remove { notifier }) => {
            cmd::notify::contact(&ctx, notifier, None).await?
        }
        Command::Audit { patient, fhir } => cmd::audit::audit(&ctx, *patient, *fhir).await?,
        Command::Watch { count, from_block } => {
            cmd::audit::watch(&ctx, *count, *from_block, g.json).await?;
            return Ok(None);
        }
        Command::Ipfs(IpfsCmd::Add { file }) => cmd::ipfs::add(&ctx, file)?,
        Command::Ipfs(IpfsCmd::Cat { cid, output }) => cmd::ipfs::cat(&ctx, cid, output)?,
        Command::Ipfs(IpfsCmd::Export { cid, output }) => cmd::ipfs::export(&ctx, cid, output)?,
        Command::Ipfs(IpfsCmd::Import { car }) => cmd::ipfs::import(&ctx, car)?,
        Command::Ipfs(IpfsCmd::Serve {
            listen,
            allow_origin,
            web,
            notifier,
        }) => {
            let web = web.as_deref();
            cmd::ipfs::serve(&ctx, *listen, allow_origin, web, notifier.as_ref(), g.json).await?;
            return Ok(None);
        }
        Command::Ipfs(IpfsCmd::Pin {
            cid,
            service,
            name,
            wait,
        }) => cmd::ipfs::pin(&ctx, cid, service, name.as_deref(), *wait)?,
    };
    Ok(Some(report))
}
