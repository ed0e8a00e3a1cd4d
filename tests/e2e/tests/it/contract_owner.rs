//! Issue 15 §2: the owner of CareLedger as a contract. A 2-of-3 multisig
//! (abi/consumers/OwnerMultisig.sol, the forge artifact `scripts/forge build`
//! writes) takes the PatientRegistry over from the EOA that deployed it, with the
//! registry's two-step transfer, and then does the owner's work on the Stylus
//! contracts: each action runs only once two of its owners confirmed it.
//!
//! The Stylus contracts on a devnode (or the chain `STYLUS_RPC_URL` names), the
//! real `careledger` binary for the EOA owner and the verifiers, alloy for the
//! multisig's transactions.

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolInterface, SolValue};
use careledger_bindings::IAccessToken::{self, IAccessTokenErrors};
use careledger_bindings::IPatientRegistry::{self, IPatientRegistryErrors};
use careledger_e2e::cli::World;
use careledger_e2e::twins::creation_code;
use careledger_e2e::{Account, Net};

alloy::sol! {
    /// abi/consumers/OwnerMultisig.sol, the part the test uses.
    #[sol(all_derives)]
    interface OwnerMultisig {
        function propose(address target, bytes calldata data) external returns (uint256 id);
        function confirm(uint256 id) external;
        function revoke(uint256 id) external;
        function isOwner(address account) external view returns (bool);
        function threshold() external view returns (uint8);
        function owners() external view returns (address[] memory);
        function proposalCount() external view returns (uint256);
        function proposal(uint256 id) external view returns (address target, bytes memory data, uint8 confirmations, bool executed);

        error NotOwner(address account);
        error InvalidOwner(address account);
        error InvalidThreshold(uint256 threshold, uint256 owners);
        error InvalidTarget(address target);
        error UnknownProposal(uint256 id);
        error AlreadyExecuted(uint256 id);
        error AlreadyConfirmed(uint256 id, address owner);
        error NotConfirmed(uint256 id, address owner);
    }
}

use OwnerMultisig::OwnerMultisigErrors;

/// Transactions and calls from the test's keys, each on one runtime (the harness
/// is synchronous).
struct Chain {
    rt: tokio::runtime::Runtime,
    provider: DynProvider,
}

impl Chain {
    fn connect(net: &Net, accounts: &[&Account]) -> Self {
        let mut wallet = EthereumWallet::default();
        for a in accounts {
            let signer: PrivateKeySigner = a.key.parse().expect("a key");
            wallet.register_signer(signer);
        }
        let provider = ProviderBuilder::new()
            .wallet(wallet)
            .connect_http(net.url.parse().expect("a URL"))
            .erased();
        Self {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime"),
            provider,
        }
    }

    /// Mines `tx` from `from`; panics unless it succeeds.
    fn send(&self, from: Address, tx: TransactionRequest) -> alloy::rpc::types::TransactionReceipt {
        let receipt = self.rt.block_on(async {
            self.provider
                .send_transaction(tx.with_from(from))
                .await
                .unwrap_or_else(|e| panic!("a transaction from {from} is refused: {e}"))
                .get_receipt()
                .await
                .expect("the transaction is mined")
        });
        assert!(receipt.status(), "transaction from {from} reverted");
        receipt
    }

    fn tx(&self, from: Address, to: Address, data: Vec<u8>) {
        self.send(
            from,
            TransactionRequest::default().with_to(to).with_input(data),
        );
    }

    fn deploy(&self, from: Address, code: Vec<u8>) -> Address {
        self.send(from, TransactionRequest::default().with_deploy_code(code))
            .contract_address
            .expect("a created contract")
    }

    /// An `eth_call` from `from`: the output, or the revert data.
    fn call(&self, from: Address, to: Address, data: Vec<u8>) -> Result<Bytes, Bytes> {
        let req = TransactionRequest::default()
            .with_from(from)
            .with_to(to)
            .with_input(data);
        self.rt
            .block_on(async { self.provider.call(req).await })
            .map_err(|e| {
                e.as_error_resp()
                    .and_then(|r| r.as_revert_data())
                    .unwrap_or_else(|| panic!("a revert with data from {to}, got {e}"))
            })
    }

    /// A view's decoded answer.
    fn view<C: SolCall>(&self, to: Address, call: C) -> C::Return {
        let out = self
            .call(Address::ZERO, to, call.abi_encode())
            .unwrap_or_else(|e| panic!("a view on {to} reverted: {e}"));
        C::abi_decode_returns(&out).expect("the view's answer")
    }

    /// The revert data of a transaction that must revert: its `eth_call`, and
    /// `eth_estimateGas` refuses it too (so no client would send it). Nothing is
    /// sent: a refused send would leave the wallet's nonce ahead of the chain's.
    fn reverts(&self, from: Address, to: Address, data: Vec<u8>) -> Bytes {
        let revert = self
            .call(from, to, data.clone())
            .expect_err("the call reverts");
        let req = TransactionRequest::default()
            .with_from(from)
            .with_to(to)
            .with_input(data);
        let estimate = self
            .rt
            .block_on(async { self.provider.estimate_gas(req).await });
        assert!(
            estimate.is_err(),
            "gas estimated for a reverting call: {estimate:?}"
        );
        revert
    }
}

/// The deployed multisig, driven through `Chain`.
struct Multisig<'c> {
    chain: &'c Chain,
    address: Address,
}

impl Multisig<'_> {
    /// `by` proposes `target.call(data)` (its own confirmation counts): the id.
    fn propose(&self, by: &Account, target: Address, data: Vec<u8>) -> U256 {
        let id = self
            .chain
            .view(self.address, OwnerMultisig::proposalCountCall {});
        self.chain.tx(
            by.address,
            self.address,
            OwnerMultisig::proposeCall {
                target,
                data: data.into(),
            }
            .abi_encode(),
        );
        id
    }

    fn confirm(&self, by: &Account, id: U256) {
        self.chain.tx(
            by.address,
            self.address,
            OwnerMultisig::confirmCall { id }.abi_encode(),
        );
    }

    /// (confirmations, executed) of proposal `id`.
    fn state(&self, id: U256) -> (u8, bool) {
        let p = self
            .chain
            .view(self.address, OwnerMultisig::proposalCall { id });
        (p.confirmations, p.executed)
    }

    /// Proposal by `a`, confirmation by `b`: the call runs in `b`'s transaction.
    fn run(&self, a: &Account, b: &Account, target: Address, data: Vec<u8>) {
        let id = self.propose(a, target, data);
        assert_eq!(self.state(id), (1, false), "ran on one confirmation");
        self.confirm(b, id);
        assert_eq!(
            self.state(id),
            (2, true),
            "did not run on two confirmations"
        );
    }
}

#[test]
fn a_two_of_three_multisig_owns_careledger() {
    let net = Net::start();
    let dir = tempfile::tempdir().unwrap();
    let world = World::deploy(&net, dir.path());
    let eoa = world.user(world.owner.clone());
    let contracts: Vec<Address> = world
        .contracts()
        .iter()
        .map(|a| a.parse().expect("a contract address"))
        .collect();
    let (registry, token) = (contracts[0], contracts[1]);
    let (a, b, c) = (net.account(false), net.account(false), net.account(false));
    let stranger = net.account(false);
    let chain = Chain::connect(&net, &[&world.owner, &a, &b, &c, &stranger]);

    // The multisig, 2 of 3, deployed by anyone (here the EOA owner).
    let mut code = creation_code("OwnerMultisig");
    // constructor(address[] owners, uint8 threshold): a uint8 is one word, as a uint256.
    code.extend((vec![a.address, b.address, c.address], U256::from(2)).abi_encode_params());
    let ms = Multisig {
        chain: &chain,
        address: chain.deploy(world.owner.address, code),
    };
    let msa = ms.address;
    assert_eq!(
        chain.view(msa, OwnerMultisig::ownersCall {}),
        vec![a.address, b.address, c.address]
    );
    assert_eq!(chain.view(msa, OwnerMultisig::thresholdCall {}), 2);

    // Step 1: the EOA owner proposes the multisig as the next owner.
    chain.tx(
        world.owner.address,
        registry,
        IPatientRegistry::transferOwnershipCall { new_owner: msa }.abi_encode(),
    );
    assert_eq!(
        chain.view(registry, IPatientRegistry::pendingOwnerCall {}),
        msa
    );
    // The proposed owner cannot be made a verifier either.
    let err = eoa.fails(&["verifier", "add", &msa.to_string()]);
    assert!(err.contains("one account cannot do both"), "{err}");

    // Step 2: the multisig accepts, once two of its owners confirmed.
    let accept = IPatientRegistry::acceptOwnershipCall {}.abi_encode();
    let id = ms.propose(&a, registry, accept);
    assert_eq!(ms.state(id), (1, false));
    assert_eq!(
        chain.view(registry, IPatientRegistry::ownerCall {}),
        world.owner.address,
        "one confirmation changed the owner"
    );
    // Nobody confirms twice, and only the multisig's owners confirm.
    let confirm = OwnerMultisig::confirmCall { id }.abi_encode();
    assert_eq!(
        OwnerMultisigErrors::abi_decode(&chain.reverts(a.address, msa, confirm.clone())).unwrap(),
        OwnerMultisigErrors::AlreadyConfirmed(OwnerMultisig::AlreadyConfirmed {
            id,
            owner: a.address
        })
    );
    assert_eq!(
        OwnerMultisigErrors::abi_decode(&chain.reverts(stranger.address, msa, confirm.clone()))
            .unwrap(),
        OwnerMultisigErrors::NotOwner(OwnerMultisig::NotOwner {
            account: stranger.address
        })
    );
    ms.confirm(&b, id);
    assert_eq!(ms.state(id), (2, true));
    assert_eq!(chain.view(registry, IPatientRegistry::ownerCall {}), msa);
    assert_eq!(
        chain.view(registry, IPatientRegistry::pendingOwnerCall {}),
        Address::ZERO
    );
    // Run once: a third confirmation is refused.
    assert_eq!(
        OwnerMultisigErrors::abi_decode(&chain.reverts(c.address, msa, confirm)).unwrap(),
        OwnerMultisigErrors::AlreadyExecuted(OwnerMultisig::AlreadyExecuted { id })
    );

    // The former owner is refused, in the registry and in AccessToken.
    let err = eoa.fails(&["verifier", "add", &stranger.addr()]);
    assert!(err.contains("is not the owner of the registry"), "{err}");
    let err = eoa.fails(&["emergency", "limit", "1"]);
    assert!(err.contains("is not the owner of the registry"), "{err}");
    let err = eoa.fails(&["pause"]);
    assert!(err.contains("is not the owner of the registry"), "{err}");

    // The owner's work, through the multisig, each by a different pair of owners.
    let v = net.account(false);
    ms.run(
        &b,
        &c,
        registry,
        IPatientRegistry::addVerifierCall {
            verifier: v.address,
        }
        .abi_encode(),
    );
    assert!(chain.view(
        registry,
        IPatientRegistry::isVerifierCall { account: v.address }
    ));
    ms.run(
        &c,
        &a,
        registry,
        IPatientRegistry::setVerificationThresholdCall { threshold: 2 }.abi_encode(),
    );
    assert_eq!(
        chain.view(registry, IPatientRegistry::verificationThresholdCall {}),
        2
    );
    ms.run(
        &a,
        &c,
        registry,
        IPatientRegistry::pauseCall {}.abi_encode(),
    );
    assert!(chain.view(registry, IPatientRegistry::pausedCall {}));
    ms.run(
        &b,
        &a,
        registry,
        IPatientRegistry::unpauseCall {}.abi_encode(),
    );
    assert!(!chain.view(registry, IPatientRegistry::pausedCall {}));
    // AccessToken asks the registry who owns it: the multisig, as the caller.
    ms.run(
        &a,
        &b,
        token,
        IAccessToken::setEmergencyDailyLimitCall { limit: 5 }.abi_encode(),
    );
    assert_eq!(
        chain.view(token, IAccessToken::emergencyDailyLimitCall {}),
        5
    );
    // ... where the former owner is refused too.
    assert_eq!(
        IAccessTokenErrors::abi_decode(&chain.reverts(
            world.owner.address,
            token,
            IAccessToken::setEmergencyDailyLimitCall { limit: 1 }.abi_encode()
        ))
        .unwrap(),
        IAccessTokenErrors::NotRegistryOwner(IAccessToken::NotRegistryOwner(world.owner.address))
    );

    // The quorum of two the multisig set, with the verifier it added.
    let doctor = world.user(net.account(false));
    doctor.json(&["doctor", "register", "--licence", "GMC-MULTISIG"]);
    let first = world.user(world.verifier.clone());
    assert_eq!(
        first.json(&["doctor", "verify", &doctor.addr()])["status"],
        "pending verification"
    );
    assert_eq!(
        world
            .user(v.clone())
            .json(&["doctor", "verify", &doctor.addr()])["status"],
        "verified"
    );

    // The multisig cannot make itself a verifier, even by its own quorum: the
    // confirmation that would run the call reverts with the registry's error, and
    // the proposal stays open and unrun.
    let id = ms.propose(
        &a,
        registry,
        IPatientRegistry::addVerifierCall { verifier: msa }.abi_encode(),
    );
    let revert = chain.reverts(
        b.address,
        msa,
        OwnerMultisig::confirmCall { id }.abi_encode(),
    );
    assert_eq!(
        IPatientRegistryErrors::abi_decode(&revert).unwrap(),
        IPatientRegistryErrors::OwnerCannotVerify(IPatientRegistry::OwnerCannotVerify(msa))
    );
    assert_eq!(ms.state(id), (1, false));
    assert!(!chain.view(registry, IPatientRegistry::isVerifierCall { account: msa }));
}
