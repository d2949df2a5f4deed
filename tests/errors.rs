//! Bad input returns a typed error naming the operator, never a panic, and
//! leaves its arguments untouched.

use frankentorch::dispatch::Value;
use frankentorch::prelude::*;
use frankentorch::ErrorKind;
use proptest::prelude::*;

fn f32s(sizes: &[usize]) -> Tensor {
    let n = sizes.iter().product();
    Tensor::from_vec((0..n).map(|i| i as f32).collect::<Vec<_>>(), sizes).unwrap()
}

fn expect(r: Result<Tensor>, kind: ErrorKind, op: &str) {
    let e = r.expect_err("bad input must fail");
    assert_eq!(e.kind(), kind, "{e}");
    assert_eq!(e.op(), op, "{e}");
}

#[test]
fn shape_mismatch_names_the_op() {
    expect(
        ops::add(&f32s(&[3]), &f32s(&[4])),
        ErrorKind::ShapeMismatch,
        "aten::add.Tensor",
    );
    expect(
        ops::mm(&f32s(&[2, 3]), &f32s(&[4, 5])),
        ErrorKind::ShapeMismatch,
        "aten::mm",
    );
    expect(ops::view(&f32s(&[2, 3]), &[4]), ErrorKind::ShapeMismatch, "aten::view");
    expect(
        ops::matmul(&f32s(&[2, 3]), &f32s(&[2, 3])),
        ErrorKind::ShapeMismatch,
        "aten::matmul",
    );
    expect(ops::expand(&f32s(&[3]), &[4]), ErrorKind::ShapeMismatch, "aten::expand");
}

#[test]
fn bad_dims_name_the_op() {
    let e = ops::sum_dim(&f32s(&[2, 3]), Some(&[2]), false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DimOutOfRange);
    assert_eq!(
        e.to_string(),
        "aten::sum.dim_IntList: Dimension out of range (expected to be in range of [-2, 1], but got 2)"
    );
    expect(
        ops::transpose(&f32s(&[2]), 0, 3),
        ErrorKind::DimOutOfRange,
        "aten::transpose.int",
    );
    expect(
        ops::unsqueeze(&f32s(&[2]), 3),
        ErrorKind::DimOutOfRange,
        "aten::unsqueeze",
    );
}

#[test]
fn dtype_errors_name_the_op() {
    let i = Tensor::from_vec(vec![1i64, 2], &[2]).unwrap();
    expect(ops::mean(&i), ErrorKind::DType, "aten::mean");
    let b = Tensor::from_vec(vec![true], &[1]).unwrap();
    expect(ops::neg(&b), ErrorKind::DType, "aten::neg");
    let f = f32s(&[2]);
    let before = i.to_vec::<i64>().unwrap();
    expect(ops::add_(&i, &f), ErrorKind::DType, "aten::add_.Tensor");
    assert_eq!(
        i.to_vec::<i64>().unwrap(),
        before,
        "a failed in-place op writes nothing"
    );
    assert_eq!(i.version(), 0, "a failed in-place op does not bump the version");
}

#[test]
fn by_name_calls_check_the_schema() {
    let a = Value::from(f32s(&[2]));
    let e = ops::call("aten::nonexistent", vec![], vec![]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Schema);
    let e = ops::call("aten::add.Tensor", vec![a.clone()], vec![]).unwrap_err();
    assert!(e.message().contains("missing required argument 'other'"), "{e}");
    let e = ops::call(
        "aten::add.Tensor",
        vec![a.clone(), a.clone()],
        vec![("beta".into(), Value::Int(1))],
    )
    .unwrap_err();
    assert!(e.message().contains("unexpected keyword argument 'beta'"), "{e}");
    let e = ops::call("aten::add.Tensor", vec![a.clone(), a.clone(), Value::Int(2)], vec![]).unwrap_err();
    assert!(e.message().contains("positional"), "alpha is keyword-only: {e}");
    let e = ops::call("aten::mm", vec![a.clone(), Value::Int(3)], vec![]).unwrap_err();
    assert!(e.message().contains("argument 'mat2' must be Tensor, not int"), "{e}");
    assert!(ops::schemas().len() >= 40);
}

fn any_dtype() -> impl Strategy<Value = DType> {
    prop::sample::select(DType::ALL.to_vec())
}

fn any_tensor() -> impl Strategy<Value = Tensor> {
    (prop::collection::vec(0usize..4, 0..4), any_dtype()).prop_map(|(sizes, dtype)| {
        let n: usize = sizes.iter().product();
        let t = Tensor::from_vec((0..n).map(|i| (i % 5) as f64 - 2.0).collect::<Vec<_>>(), &sizes).unwrap();
        ops::_to_copy_full(&t, Some(dtype), None, None, None, false, None).unwrap()
    })
}

fn any_value(ty: frankentorch::dispatch::ArgType) -> BoxedStrategy<Value> {
    use frankentorch::dispatch::ArgType as A;
    let opt = |s: BoxedStrategy<Value>| prop_oneof![Just(Value::None), s].boxed();
    let ints = || prop::collection::vec(-3i64..5, 0..4).prop_map(Value::IntList).boxed();
    let scalar = || {
        prop_oneof![
            (-3i64..4).prop_map(Value::Int),
            (-3.0f64..3.0).prop_map(Value::Float),
            any::<bool>().prop_map(Value::Bool)
        ]
        .boxed()
    };
    let floats = || {
        prop::collection::vec(-3.0f64..3.0, 0..3)
            .prop_map(Value::FloatList)
            .boxed()
    };
    match ty {
        A::Tensor => any_tensor().prop_map(Value::Tensor).boxed(),
        A::OptTensor => opt(any_tensor().prop_map(Value::Tensor).boxed()),
        A::TensorList => prop::collection::vec(any_tensor(), 0..3)
            .prop_map(Value::TensorList)
            .boxed(),
        A::OptTensorList => prop::collection::vec(any_tensor(), 0..3)
            .prop_map(Value::TensorList)
            .boxed(),
        A::Scalar => scalar(),
        A::OptScalar => opt(scalar()),
        A::Int => (-4i64..5).prop_map(Value::Int).boxed(),
        A::OptInt => opt((-4i64..5).prop_map(Value::Int).boxed()),
        A::IntList(_) => ints(),
        A::OptIntList(_) => opt(ints()),
        A::Float => (-3.0f64..3.0).prop_map(Value::Float).boxed(),
        A::OptFloat => opt((-3.0f64..3.0).prop_map(Value::Float).boxed()),
        A::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        A::OptBool => opt(any::<bool>().prop_map(Value::Bool).boxed()),
        A::BoolList => prop::collection::vec(any::<bool>(), 0..3)
            .prop_map(Value::BoolList)
            .boxed(),
        A::FloatList => floats(),
        A::OptFloatList => opt(floats()),
        A::Str | A::OptStr => Just(Value::Str("mean".into())).boxed(),
        A::ScalarType => any_dtype().prop_map(Value::DType).boxed(),
        A::OptScalarType => opt(any_dtype().prop_map(Value::DType).boxed()),
        A::OptLayout | A::OptDevice | A::OptMemoryFormat => Just(Value::None).boxed(),
        A::OptGenerator => opt((0u64..5)
            .prop_map(|seed| Value::Generator(frankentorch::Generator::new(seed)))
            .boxed()),
    }
}

fn any_call() -> impl Strategy<Value = (String, Vec<Value>)> {
    let schemas = ops::schemas();
    (0..schemas.len()).prop_flat_map(move |i| {
        let s = schemas[i];
        let args: Vec<BoxedStrategy<Value>> = s.args.iter().map(|a| any_value(a.ty)).collect();
        (Just(s.qualified_name()), args)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]
    /// Random shapes, dims, dtypes and values through every operator by name:
    /// each call returns Ok or a typed Err, never panics.
    #[test]
    fn no_panic_from_random_by_name_calls((name, args) in any_call()) {
        let schema = ops::schemas().into_iter().find(|s| s.qualified_name() == name).unwrap();
        let (positional, kwargs): (Vec<_>, Vec<_>) = schema.args.iter().zip(args).partition(|(a, _)| !a.kwarg_only);
        let positional: Vec<Value> = positional.into_iter().map(|(_, v)| v).collect();
        let kwargs: Vec<(String, Value)> = kwargs.into_iter().map(|(a, v)| (a.name.to_string(), v)).collect();
        let outcome = std::panic::catch_unwind(|| ops::call(&name, positional, kwargs).map(|_| ()));
        prop_assert!(outcome.is_ok(), "{} panicked", name);
    }
}
