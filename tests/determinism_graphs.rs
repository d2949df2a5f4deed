//! The Deterministic Autograd Contract on random graphs: proptest builds
//! programs from the schema's differentiable pointwise operators (taken from
//! the registry, so new ops join automatically), with shared subexpressions,
//! views and in-place updates, and runs each forward and backward on thread
//! pools of 1, 2 and 4 threads; every output and gradient must have the same
//! bits (compared by provenance digest).

use frankentorch::autograd::provenance::Digest;
use frankentorch::dispatch::{ArgType, OpSchema, Value};
use frankentorch::parallel;
use frankentorch::prelude::*;
use proptest::prelude::*;

/// Out-of-place pointwise ops of the form `op(Tensor self[, Tensor other]) -> Tensor`
/// that are differentiable in float64 (a probe run must give both leaves a
/// gradient) and defined everywhere on our inputs.
fn pointwise_ops() -> Vec<&'static OpSchema> {
    let candidates = candidate_ops();
    candidates
        .iter()
        .enumerate()
        .filter(|(k, _)| run(&candidates, &[Step::Op { op: *k, a: 0, b: 1 }]).is_ok_and(|d| d.len() == 3))
        .map(|(_, s)| *s)
        .collect()
}

fn candidate_ops() -> Vec<&'static OpSchema> {
    // Ops whose domain or gradient is restricted (values in (-1, 1), positive
    // only, integer-valued or piecewise with undefined points) stay out so
    // every program is finite; the rest of the registry is fair game.
    const SKIP: &[&str] = &[
        "acos",
        "asin",
        "atanh",
        "acosh",
        "log",
        "log2",
        "log10",
        "log1p",
        "sqrt",
        "rsqrt",
        "reciprocal",
        "div",
        "pow",
        "remainder",
        "fmod",
        "floor",
        "ceil",
        "round",
        "trunc",
        "frac",
        "sign",
        "sgn",
        "lgamma",
        "digamma",
        "polygamma",
        "erfinv",
        "logit",
        "xlogy",
        "special_xlog1py",
        "float_power",
        "true_divide",
        "divide",
        "floor_divide",
        "heaviside",
        "copysign",
        "nextafter",
        "ldexp",
        "hypot",
        "atan2",
        "arctan2",
        "logaddexp",
        "logaddexp2",
        "i0",
        "fix",
        "positive",
        "bitwise_not",
        "logical_not",
        "clone",
        "exp2",
        "expm1",
        "exp",
        "sinh",
        "cosh",
        "tan",
        "mvlgamma",
        "sinc",
    ];
    frankentorch::ops::schemas()
        .into_iter()
        .filter(|s| s.tags.contains(&"pointwise") && (s.overload.is_empty() || s.overload == "Tensor"))
        .filter(|s| {
            let name = s.name.trim_start_matches("aten::");
            !name.ends_with('_') && !SKIP.contains(&name)
        })
        .filter(|s| {
            let required: Vec<_> = s.args.iter().filter(|a| a.default.is_none()).collect();
            matches!(required.len(), 1 | 2)
                && required.iter().all(|a| a.ty == ArgType::Tensor && !a.is_write)
                && s.returns.len() == 1
                && s.returns[0].ty == ArgType::Tensor
        })
        .collect()
}

/// One step of a program: an op on earlier nodes, a view, or an in-place update.
#[derive(Clone, Debug)]
enum Step {
    /// `ops[op](nodes[a], nodes[b])` (b ignored by unary ops).
    Op { op: usize, a: usize, b: usize },
    /// `nodes[a].transpose(0, 1)` (a view sharing its input's storage).
    Transpose { a: usize },
    /// `nodes[a][1:]` along dim 0, padded back by concatenation.
    SliceCat { a: usize },
    /// `c = nodes[a].clone(); c.mul_(nodes[b])` (an in-place update).
    MulInPlace { a: usize, b: usize },
}

fn step_strategy(n_ops: usize) -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..n_ops, any::<usize>(), any::<usize>()).prop_map(|(op, a, b)| Step::Op { op, a, b }),
        1 => any::<usize>().prop_map(|a| Step::Transpose { a }),
        1 => any::<usize>().prop_map(|a| Step::SliceCat { a }),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Step::MulInPlace { a, b }),
    ]
}

fn leaf(seed: usize) -> Tensor {
    let vals: Vec<f64> = (0..16)
        .map(|i| (((i * 5 + seed * 3) % 11) as f64 - 5.0) / 7.0)
        .collect();
    let t = Tensor::from_vec(vals, &[4, 4]).unwrap();
    t.requires_grad_(true).unwrap();
    t
}

/// Runs a program; digests of its final value and of both leaves' gradients
/// (or the error's message, which must not depend on the pool either).
fn run(ops: &[&'static OpSchema], steps: &[Step]) -> std::result::Result<Vec<Option<Digest>>, String> {
    let leaves = [leaf(0), leaf(1)];
    let mut nodes: Vec<Tensor> = leaves.to_vec();
    let pick = |nodes: &[Tensor], k: usize| nodes[k % nodes.len()].clone();
    for step in steps {
        let next = match step {
            Step::Op { op, a, b } => {
                let s = ops[*op];
                let required = s.args.iter().filter(|a| a.default.is_none()).count();
                let mut args = vec![Value::Tensor(pick(&nodes, *a))];
                if required == 2 {
                    args.push(Value::Tensor(pick(&nodes, *b)));
                }
                let out = frankentorch::ops::call(&s.qualified_name(), args, vec![]).map_err(|e| e.to_string())?;
                out[0].as_tensor().cloned().ok_or("not a tensor")?
            }
            Step::Transpose { a } => pick(&nodes, *a).transpose(0, 1).map_err(|e| e.to_string())?,
            Step::SliceCat { a } => {
                let t = pick(&nodes, *a);
                let tail = ops::slice(&t, 0, Some(1), None, 1).map_err(|e| e.to_string())?;
                let head = ops::slice(&t, 0, None, Some(1), 1).map_err(|e| e.to_string())?;
                ops::cat(&[tail, head], 0).map_err(|e| e.to_string())?
            }
            Step::MulInPlace { a, b } => {
                let c = ops::clone(&pick(&nodes, *a)).map_err(|e| e.to_string())?;
                c.mul_(&pick(&nodes, *b)).map_err(|e| e.to_string())?;
                c
            }
        };
        // Keep values bounded so long chains stay finite.
        nodes.push(next.tanh().map_err(|e| e.to_string())?);
    }
    let total = nodes[2..]
        .iter()
        .try_fold(
            ops::zeros_full(&[], Some(DType::F64), None, None, None).unwrap(),
            |acc, t| acc.add(&t.sum()?),
        )
        .map_err(|e| e.to_string())?;
    let mut digests = vec![Some(Digest::of(&total))];
    if total.requires_grad() {
        let g = grad(&[total], &leaves, &[], None, false, true).map_err(|e| e.to_string())?;
        digests.extend(g.iter().map(|g| g.as_ref().map(Digest::of)));
    }
    Ok(digests)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_graphs_give_identical_bits_on_1_2_and_4_threads(
        steps in prop::collection::vec(step_strategy(1 << 16), 1..12)
    ) {
        let ops = pointwise_ops();
        prop_assume!(!ops.is_empty());
        let steps: Vec<Step> = steps
            .into_iter()
            .map(|s| match s {
                Step::Op { op, a, b } => Step::Op { op: op % ops.len(), a, b },
                other => other,
            })
            .collect();
        let base = parallel::with_threads(1, || run(&ops, &steps));
        prop_assert!(base.is_ok(), "the program failed: {:?}", base);
        for threads in [2, 4] {
            let again = parallel::with_threads(threads, || run(&ops, &steps));
            prop_assert_eq!(&base, &again, "{} threads differ for {:?}", threads, steps);
        }
    }
}

#[test]
fn the_op_menu_comes_from_the_registry() {
    let names: Vec<String> = pointwise_ops().iter().map(|s| s.qualified_name()).collect();
    for expected in ["aten::add.Tensor", "aten::mul.Tensor", "aten::sin", "aten::tanh"] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
    }
    assert!(names.len() >= 20, "only {} ops: {names:?}", names.len());
}
