//! Provenance ledgers on a real training step of the digits MLP: record,
//! serialise, replay, and find a corrupted saved tensor at the right node.

use frankentorch::autograd::anomaly;
use frankentorch::autograd::provenance::{self, Ledger, LedgerRecorder, Replay};
use frankentorch::datasets::load_digits;
use frankentorch::nn::{CrossEntropyLoss, Forward, Linear, LinearConfig, Module, ReLU};
use frankentorch::optim::{Adam, AdamOpts, Optimizer};
use frankentorch::prelude::*;
use frankentorch::{Storage, Tensor};

/// The digits MLP, split into its layers so the test can reach the hidden
/// activation the second layer saves for backward.
struct Mlp {
    fc1: Linear,
    act: ReLU,
    fc2: Linear,
}

impl Mlp {
    fn new() -> Mlp {
        // The default generator is shared by the tests running side by side.
        static SEEDING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one_at_a_time = SEEDING.lock().unwrap_or_else(|e| e.into_inner());
        manual_seed(0);
        Mlp {
            fc1: Linear::new(64, 32, LinearConfig::default()).unwrap(),
            act: ReLU::new(),
            fc2: Linear::new(32, 10, LinearConfig::default()).unwrap(),
        }
    }

    fn parameters(&self) -> Vec<(String, Tensor)> {
        let mut out = vec![];
        for (prefix, layer) in [("fc1", &self.fc1), ("fc2", &self.fc2)] {
            for (name, t) in layer.named_parameters() {
                out.push((format!("{prefix}.{name}"), t));
            }
        }
        out
    }

    /// The loss of one batch, and the hidden activation.
    fn loss(&self, x: &Tensor, y: &Tensor) -> (Tensor, Tensor) {
        let hidden = self.act.forward(&self.fc1.forward(x).unwrap()).unwrap();
        let logits = self.fc2.forward(&hidden).unwrap();
        (CrossEntropyLoss::default().forward(&logits, y).unwrap(), hidden)
    }
}

fn batch() -> (Tensor, Tensor) {
    let digits = load_digits(concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits.csv.gz")).unwrap();
    let x = ops::slice(&digits.images, 0, None, Some(64), 1).unwrap();
    let y = ops::slice(&digits.target, 0, None, Some(64), 1).unwrap();
    (x.div(&Tensor::scalar_tensor(16.0.into(), DType::F32)).unwrap(), y)
}

/// `loss.backward(retain_graph=True)`.
fn backward_retained(loss: &Tensor) -> frankentorch::Result<()> {
    frankentorch::backward_full(std::slice::from_ref(loss), &[], Some(true), false, None)
}

fn names(params: &[(String, Tensor)]) -> Vec<(&str, &Tensor)> {
    params.iter().map(|(n, t)| (n.as_str(), t)).collect()
}

fn zero_grads(params: &[(String, Tensor)]) {
    for (_, p) in params {
        p.set_grad(None).unwrap();
    }
}

/// Records one training step's backward (sites recorded in the forward pass).
fn record(model: &Mlp, x: &Tensor, y: &Tensor) -> (Ledger, Tensor, Tensor) {
    let params = model.parameters();
    let (loss, hidden) = {
        let _sites = anomaly::record_sites();
        model.loss(x, y)
    };
    let recorder = LedgerRecorder::start(&names(&params));
    backward_retained(&loss).unwrap();
    (recorder.finish(), loss, hidden)
}

#[test]
fn a_training_step_ledger_names_every_node_and_leaf() {
    let model = Mlp::new();
    let (x, y) = batch();
    let (ledger, _, _) = record(&model, &x, &y);
    let names: Vec<&str> = ledger.nodes.iter().map(|n| n.name.as_str()).collect();
    assert!(
        names.contains(&"AddmmBackward0") && names.contains(&"AccumulateGrad"),
        "{names:?}"
    );
    assert_eq!(names.iter().filter(|n| **n == "AccumulateGrad").count(), 4);
    let leaves: Vec<&str> = ledger.leaves.iter().map(|l| l.name.as_str()).collect();
    let mut sorted = leaves.clone();
    sorted.sort();
    assert_eq!(sorted, ["fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"]);
    for leaf in &ledger.leaves {
        assert!(!leaf.contributions.is_empty() && leaf.grad.is_some(), "{}", leaf.name);
        let from = leaf.contributions[0].from_node.unwrap();
        assert!(from < ledger.nodes.len());
    }
    let addmm = ledger.nodes.iter().find(|n| n.name == "AddmmBackward0").unwrap();
    assert_eq!(addmm.forward_op.as_deref(), Some("aten::addmm"));
    let site = addmm.site.as_deref().unwrap();
    assert!(site.contains("tests/provenance.rs:"), "{site}");
    // Executions are in the engine's order: sequence numbers never rise
    // except to run a ready AccumulateGrad (u64::MAX) first.
    assert_eq!(ledger.nodes[0].name, "NllLossBackward0");
    let json = ledger.to_json();
    assert!(json.contains("\"format\": \"frankentorch.provenance/2\""));
    assert_eq!(Ledger::from_json(&json).unwrap(), ledger);
}

#[test]
fn replaying_the_same_backward_matches_the_ledger() {
    let model = Mlp::new();
    let (x, y) = batch();
    let (ledger, loss, _) = record(&model, &x, &y);
    let params = model.parameters();
    zero_grads(&params);
    let replay = provenance::replay(&ledger, &names(&params), || backward_retained(&loss)).unwrap();
    assert_eq!(
        replay,
        Replay::Match {
            nodes: ledger.nodes.len()
        }
    );
    // A ledger read back from JSON replays too.
    zero_grads(&params);
    let parsed = Ledger::from_json(&ledger.to_json()).unwrap();
    let again = provenance::replay(&parsed, &names(&params), || backward_retained(&loss)).unwrap();
    assert!(again.is_match());
}

#[test]
fn a_corrupted_saved_tensor_is_reported_at_the_node_that_saved_it() {
    let model = Mlp::new();
    let (x, y) = batch();
    let (ledger, loss, hidden) = record(&model, &x, &y);
    // Scale the hidden activation through an alias with its own version
    // counter (like torch's `.data`): the saved-variable version check cannot
    // see it, the ledger can.
    let alias = Tensor::from_storage(
        Storage::clone(hidden.storage()),
        hidden.sizes(),
        hidden.strides(),
        hidden.storage_offset(),
        hidden.dtype(),
    )
    .unwrap();
    alias.mul_(&Tensor::scalar_tensor(2.0.into(), DType::F32)).unwrap();
    let params = model.parameters();
    zero_grads(&params);
    let replay = provenance::replay(&ledger, &names(&params), || backward_retained(&loss)).unwrap();
    let Replay::Diverged(d) = replay else {
        panic!("the corruption was not detected")
    };
    // fc2 = addmm(bias, hidden, weight.t()) saved `hidden` for its weight
    // gradient; its incoming gradient is unchanged, its output is not.
    assert_eq!(d.node, "AddmmBackward0", "{d}");
    assert_eq!(d.forward_op.as_deref(), Some("aten::addmm"));
    assert!(d.what.starts_with("output"), "{d}");
    assert!(d.site.as_deref().unwrap().contains("tests/provenance.rs:"), "{d}");
    let first_addmm = ledger.nodes.iter().position(|n| n.name == "AddmmBackward0").unwrap();
    assert_eq!(d.index, first_addmm);
}

#[test]
fn the_ledger_is_the_same_after_an_optimizer_step_on_a_fresh_model() {
    // Two identical programs give identical ledgers (bit-identical gradients).
    let run = || {
        let model = Mlp::new();
        let (x, y) = batch();
        let params = model.parameters();
        let mut opt = Adam::new(
            params.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>(),
            AdamOpts::default(),
        )
        .unwrap();
        let (first, _, _) = record(&model, &x, &y);
        opt.step().unwrap();
        zero_grads(&params);
        let (second, _, _) = record(&model, &x, &y);
        (first, second)
    };
    let (a1, a2) = run();
    let (b1, b2) = run();
    assert_eq!(a1.nodes.len(), b1.nodes.len());
    assert!(provenance::compare(&a1, &b1).is_match());
    assert!(provenance::compare(&a2, &b2).is_match());
    assert!(
        !provenance::compare(&a1, &a2).is_match(),
        "the step changed the weights"
    );
}
