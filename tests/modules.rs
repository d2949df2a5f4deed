//! `nn::Module`, the layers and `nn::init` against PyTorch: every record of
//! `tests/fixtures/scenarios/modules.toml` (written by
//! `tools/oracle/scenarios/modules.py`) is replayed here under the same name.
//!
//! - init functions and construction: values bit-exact (same seed, same
//!   draws, same f64 bound arithmetic);
//! - forward outputs, gradients and running statistics: `assert_close`'s
//!   default tolerances (f32: rtol 1.3e-6, atol 1e-5; f64: 1e-7);
//! - names (state_dict keys in order, named_parameters / named_buffers /
//!   named_modules with class names), load_state_dict messages and key
//!   lists: exact.

#[path = "support/scenario.rs"]
mod scenario;

use frankentorch::nn::functional as F;
use frankentorch::nn::functional::Reduction;
use frankentorch::nn::init::{self, FanMode, KaimingOpts, Nonlinearity};
use frankentorch::nn::{self, Forward, Layer, Module, StateDict};
use frankentorch::prelude::*;
use frankentorch::ErrorKind;
use scenario::{bools, build, compare, fixture, numbers, run_all, str_of, strings, table, tables};
use std::collections::{BTreeSet, HashMap};

// ---------------------------------------------------------------- models

/// The nesting model of the Python script (`Net`).
#[derive(Module)]
struct Net {
    #[param]
    temperature: Tensor,
    #[buffer(persistent = false)]
    scale: Tensor,
    #[buffer]
    offset: Tensor,
    #[module]
    features: nn::Sequential,
    #[module]
    heads: nn::ModuleList<nn::Linear>,
    #[module]
    extra: nn::ModuleDict<Box<dyn Layer>>,
    #[training]
    training: bool,
}

impl Net {
    fn new() -> Result<Net> {
        let temperature = nn::parameter(ops::ones(&[1])?)?;
        let features = nn::Sequential::new()
            .append(nn::Conv2d::new(1, 2, [3, 3], Default::default())?)
            .append(nn::BatchNorm2d::new(2, Default::default())?)
            .append(nn::ReLU::new())
            .append(nn::Flatten::default());
        let heads = nn::ModuleList::from(vec![
            nn::Linear::new(8, 3, Default::default())?,
            nn::Linear::new(
                8,
                2,
                nn::LinearConfig {
                    bias: false,
                    ..Default::default()
                },
            )?,
        ]);
        let mut extra: nn::ModuleDict<Box<dyn Layer>> = nn::ModuleDict::new();
        extra.insert("proj", Box::new(nn::Linear::new(3, 3, Default::default())?));
        extra.insert("act", Box::new(nn::Tanh::new()));
        Ok(Net {
            temperature,
            scale: ops::full(&[1], 2.0)?,
            offset: ops::zeros(&[2])?,
            features,
            heads,
            extra,
            training: true,
        })
    }
}

impl Forward for Net {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.features.forward(x)?;
        let proj = self.extra.get("proj").expect("proj");
        let act = self.extra.get("act").expect("act");
        let y = act.forward(&proj.forward(&self.heads[0].forward(&h)?)?)?;
        let scaled = ops::mul(&ops::mul(&y, &self.temperature)?, &self.scale)?;
        let a = ops::sum_dim(&scaled, Some(&[1]), false)?;
        let b = ops::sum_dim(&self.heads[1].forward(&h)?, Some(&[1]), false)?;
        ops::add(&ops::add(&a, &b)?, &ops::sum(&self.offset)?)
    }
}

/// Two Linear layers sharing one weight (`b.weight = a.weight`).
#[derive(Module)]
struct Tied {
    #[module]
    a: nn::Linear,
    #[module]
    b: nn::Linear,
    #[training]
    training: bool,
}

impl Tied {
    fn new() -> Result<Tied> {
        let a = nn::Linear::new(3, 3, Default::default())?;
        let mut b = nn::Linear::new(3, 3, Default::default())?;
        b.weight = a.weight.clone();
        Ok(Tied { a, b, training: true })
    }
}

// ---------------------------------------------------------------- runners

/// A built module plus how the case calls it.
trait Runner {
    fn module(&self) -> &dyn Module;
    fn module_mut(&mut self) -> &mut dyn Module;
    fn run(&self, xs: &[Tensor]) -> Result<Tensor>;
}

struct Run<M, C>(M, C);

impl<M: Module, C: Fn(&M, &[Tensor]) -> Result<Tensor>> Runner for Run<M, C> {
    fn module(&self) -> &dyn Module {
        &self.0
    }
    fn module_mut(&mut self) -> &mut dyn Module {
        &mut self.0
    }
    fn run(&self, xs: &[Tensor]) -> Result<Tensor> {
        (self.1)(&self.0, xs)
    }
}

type Built = Result<Box<dyn Runner>>;
type Builder = Box<dyn Fn() -> Built>;

fn layer<M: Layer + 'static>(m: Result<M>) -> Built {
    Ok(Box::new(Run(m?, |m: &M, xs: &[Tensor]| m.forward(&xs[0]))))
}

fn with<M: Module + 'static>(m: Result<M>, call: impl Fn(&M, &[Tensor]) -> Result<Tensor> + 'static) -> Built {
    Ok(Box::new(Run(m?, call)))
}

fn lin(bias: bool, dtype: Option<DType>) -> nn::LinearConfig {
    nn::LinearConfig { bias, dtype }
}

fn conv<const N: usize>(f: impl FnOnce(&mut nn::ConvConfig<N>)) -> nn::ConvConfig<N> {
    let mut c = nn::ConvConfig::<N>::default();
    f(&mut c);
    c
}

fn bn(f: impl FnOnce(&mut nn::BatchNormConfig)) -> nn::BatchNormConfig {
    let mut c = nn::BatchNormConfig::default();
    f(&mut c);
    c
}

fn class_weight() -> Tensor {
    Tensor::from_vec(vec![1.0f32, 2.0, 0.5, 1.5], &[4]).unwrap()
}

fn two<M: Module + 'static>(m: M, f: fn(&M, &Tensor, &Tensor) -> Result<Tensor>) -> Built {
    with(Ok(m), move |m, xs| f(m, &xs[0], &xs[1]))
}

fn three<M: Module + 'static>(m: M, f: fn(&M, &Tensor, &Tensor, &Tensor) -> Result<Tensor>) -> Built {
    with(Ok(m), move |m, xs| f(m, &xs[0], &xs[1], &xs[2]))
}

fn layer_builders() -> HashMap<&'static str, Builder> {
    let mut b: HashMap<&'static str, Builder> = HashMap::new();
    let mut add = |n: &'static str, f: Builder| assert!(b.insert(n, f).is_none(), "duplicate {n}");
    add("linear", Box::new(|| layer(nn::Linear::new(3, 4, Default::default()))));
    add(
        "linear_nobias",
        Box::new(|| layer(nn::Linear::new(3, 2, lin(false, None)))),
    );
    add(
        "linear_f64",
        Box::new(|| layer(nn::Linear::new(3, 2, lin(true, Some(DType::F64))))),
    );
    add(
        "bilinear",
        Box::new(|| {
            with(nn::Bilinear::new(2, 3, 4, Default::default()), |m, xs| {
                m.forward(&xs[0], &xs[1])
            })
        }),
    );
    add("identity", Box::new(|| layer(Ok(nn::Identity::new()))));
    add(
        "conv1d",
        Box::new(|| layer(nn::Conv1d::new(4, 6, [3], Default::default()))),
    );
    add(
        "conv1d_opts",
        Box::new(|| {
            layer(nn::Conv1d::new(
                4,
                2,
                [2],
                conv(|c| {
                    c.stride = [2];
                    c.padding = [1].into();
                    c.dilation = [2];
                    c.groups = 2;
                    c.bias = false;
                }),
            ))
        }),
    );
    add(
        "conv2d",
        Box::new(|| layer(nn::Conv2d::new(4, 3, [3, 3], Default::default()))),
    );
    add(
        "conv2d_groups",
        Box::new(|| {
            layer(nn::Conv2d::new(
                4,
                6,
                [3, 2],
                conv(|c| {
                    c.stride = [2, 1];
                    c.padding = [1, 0].into();
                    c.groups = 2;
                }),
            ))
        }),
    );
    add(
        "conv2d_same",
        Box::new(|| {
            layer(nn::Conv2d::new(
                4,
                2,
                [3, 3],
                conv(|c| {
                    c.padding = F::ConvPadding::Same;
                    c.dilation = [2, 2];
                }),
            ))
        }),
    );
    add(
        "conv2d_reflect",
        Box::new(|| {
            layer(nn::Conv2d::new(
                4,
                2,
                [3, 3],
                conv(|c| {
                    c.padding = [1, 1].into();
                    c.padding_mode = nn::PaddingMode::Reflect;
                }),
            ))
        }),
    );
    add(
        "conv2d_circular",
        Box::new(|| {
            layer(nn::Conv2d::new(
                4,
                2,
                [3, 2],
                conv(|c| {
                    c.padding = [1, 2].into();
                    c.padding_mode = nn::PaddingMode::Circular;
                }),
            ))
        }),
    );
    add(
        "conv_transpose2d",
        Box::new(|| {
            layer(nn::ConvTranspose2d::new(
                4,
                3,
                [3, 3],
                nn::ConvTranspose2dConfig {
                    stride: [2, 2],
                    padding: [1, 1],
                    output_padding: [1, 1],
                    ..Default::default()
                },
            ))
        }),
    );
    add(
        "conv_transpose2d_groups",
        Box::new(|| {
            layer(nn::ConvTranspose2d::new(
                4,
                2,
                [2, 2],
                nn::ConvTranspose2dConfig {
                    groups: 2,
                    bias: false,
                    dilation: [2, 2],
                    ..Default::default()
                },
            ))
        }),
    );
    add(
        "batchnorm1d",
        Box::new(|| layer(nn::BatchNorm1d::new(3, Default::default()))),
    );
    add(
        "batchnorm1d_3d_eval",
        Box::new(|| layer(nn::BatchNorm1d::new(3, Default::default()))),
    );
    add(
        "batchnorm1d_cma",
        Box::new(|| layer(nn::BatchNorm1d::new(3, bn(|c| c.momentum = None)))),
    );
    add(
        "batchnorm2d",
        Box::new(|| layer(nn::BatchNorm2d::new(4, Default::default()))),
    );
    add(
        "batchnorm2d_no_affine",
        Box::new(|| {
            layer(nn::BatchNorm2d::new(
                4,
                bn(|c| {
                    c.affine = false;
                    c.momentum = Some(0.3);
                }),
            ))
        }),
    );
    add(
        "batchnorm2d_no_stats",
        Box::new(|| layer(nn::BatchNorm2d::new(4, bn(|c| c.track_running_stats = false)))),
    );
    add(
        "layernorm",
        Box::new(|| layer(nn::LayerNorm::new(&[3], Default::default()))),
    );
    add(
        "layernorm_2d_nobias",
        Box::new(|| {
            layer(nn::LayerNorm::new(
                &[5, 4],
                nn::LayerNormConfig {
                    eps: 1e-3,
                    bias: false,
                    ..Default::default()
                },
            ))
        }),
    );
    add(
        "layernorm_no_affine",
        Box::new(|| {
            layer(nn::LayerNorm::new(
                &[3],
                nn::LayerNormConfig {
                    elementwise_affine: false,
                    ..Default::default()
                },
            ))
        }),
    );
    add(
        "groupnorm",
        Box::new(|| layer(nn::GroupNorm::new(2, 4, Default::default()))),
    );
    add(
        "rmsnorm",
        Box::new(|| layer(nn::RMSNorm::new(&[3], Default::default()))),
    );
    add(
        "rmsnorm_eps",
        Box::new(|| {
            layer(nn::RMSNorm::new(
                &[5, 4],
                nn::RMSNormConfig {
                    eps: Some(1e-4),
                    ..Default::default()
                },
            ))
        }),
    );
    add("dropout_train", Box::new(|| layer(nn::Dropout::new(0.3))));
    add("dropout_eval", Box::new(|| layer(Ok(nn::Dropout::default()))));
    add("dropout2d_train", Box::new(|| layer(nn::Dropout2d::new(0.5))));
    add("alpha_dropout_train", Box::new(|| layer(nn::AlphaDropout::new(0.2))));
    add(
        "embedding",
        Box::new(|| layer(nn::Embedding::new(5, 3, Default::default()))),
    );
    add(
        "embedding_padding",
        Box::new(|| {
            layer(nn::Embedding::new(
                5,
                3,
                nn::EmbeddingConfig {
                    padding_idx: Some(-2),
                    ..Default::default()
                },
            ))
        }),
    );
    add(
        "embedding_max_norm",
        Box::new(|| {
            layer(nn::Embedding::new(
                5,
                3,
                nn::EmbeddingConfig {
                    max_norm: Some(1.0),
                    ..Default::default()
                },
            ))
        }),
    );
    add("flatten", Box::new(|| layer(Ok(nn::Flatten::default()))));
    add("flatten_range", Box::new(|| layer(Ok(nn::Flatten::new(0, 2)))));
    add("unflatten", Box::new(|| layer(Ok(nn::Unflatten::new(1, &[2, 2])))));
    add(
        "maxpool2d",
        Box::new(|| layer(Ok(nn::MaxPool2d::new([2, 2], Default::default())))),
    );
    add(
        "maxpool2d_opts",
        Box::new(|| {
            layer(Ok(nn::MaxPool2d::new(
                [3, 2],
                F::MaxPool2dOpts {
                    stride: Some([2, 1]),
                    padding: [1, 1],
                    ceil_mode: true,
                    ..Default::default()
                },
            )))
        }),
    );
    add(
        "avgpool2d",
        Box::new(|| {
            layer(Ok(nn::AvgPool2d::new(
                [2, 2],
                F::AvgPool2dOpts {
                    stride: Some([1, 1]),
                    padding: [1, 1],
                    count_include_pad: false,
                    ..Default::default()
                },
            )))
        }),
    );
    add(
        "adaptive_avgpool2d",
        Box::new(|| layer(Ok(nn::AdaptiveAvgPool2d::new([2, 3])))),
    );
    add(
        "sequential",
        Box::new(|| {
            layer(Ok(nn::Sequential::new()
                .append(nn::Linear::new(3, 4, Default::default())?)
                .append(nn::ReLU::new())
                .append(nn::Linear::new(4, 2, Default::default())?)))
        }),
    );
    add("net", Box::new(|| layer(Net::new())));
    add(
        "net_eval",
        Box::new(|| {
            let mut n = Net::new()?;
            n.eval();
            layer(Ok(n))
        }),
    );
    add(
        "tied",
        Box::new(|| with(Tied::new(), |m, xs| m.b.forward(&m.a.forward(&xs[0])?))),
    );
    activation_builders(&mut add);
    loss_builders(&mut add);
    recurrent_builders(&mut add);
    b
}

/// An RNN's outputs flattened and concatenated (`cat_rnn` in the script).
fn cat_rnn(parts: &[Tensor]) -> Result<Tensor> {
    let flat: Vec<Tensor> = parts.iter().map(|p| ops::reshape(p, &[-1])).collect::<Result<_>>()?;
    ops::cat(&flat, 0)
}

fn rnn_config(f: impl FnOnce(&mut nn::RnnConfig)) -> nn::RnnConfig {
    let mut c = nn::RnnConfig::default();
    f(&mut c);
    c
}

fn recurrent_builders(add: &mut impl FnMut(&'static str, Builder)) {
    fn lstm_run(m: &nn::LSTM, xs: &[Tensor]) -> Result<Tensor> {
        let hx = if xs.len() == 3 { Some((&xs[1], &xs[2])) } else { None };
        let (out, (h, c)) = m.forward(&xs[0], hx)?;
        cat_rnn(&[out, h, c])
    }
    fn gru_run(m: &nn::GRU, xs: &[Tensor]) -> Result<Tensor> {
        let (out, h) = m.forward(&xs[0], xs.get(1))?;
        cat_rnn(&[out, h])
    }
    fn rnn_run(m: &nn::RNN, xs: &[Tensor]) -> Result<Tensor> {
        let (out, h) = m.forward(&xs[0], xs.get(1))?;
        cat_rnn(&[out, h])
    }
    add(
        "lstm",
        Box::new(|| with(nn::LSTM::new(3, 4, Default::default()), lstm_run)),
    );
    add(
        "lstm_bidirectional_two_layers_hx",
        Box::new(|| {
            let c = rnn_config(|c| {
                c.num_layers = 2;
                c.bidirectional = true;
                c.batch_first = true;
            });
            with(nn::LSTM::new(3, 4, c), lstm_run)
        }),
    );
    add(
        "lstm_proj_nobias_unbatched",
        Box::new(|| {
            let c = rnn_config(|c| {
                c.proj_size = 2;
                c.bias = false;
            });
            with(nn::LSTM::new(3, 4, c), lstm_run)
        }),
    );
    add(
        "lstm_f64",
        Box::new(|| {
            with(
                nn::LSTM::new(2, 3, rnn_config(|c| c.dtype = Some(DType::F64))),
                lstm_run,
            )
        }),
    );
    add(
        "gru_dropout_train",
        Box::new(|| {
            let c = rnn_config(|c| {
                c.num_layers = 2;
                c.dropout = 0.3;
            });
            with(nn::GRU::new(3, 4, c), gru_run)
        }),
    );
    add(
        "gru_bidirectional_eval_hx",
        Box::new(|| with(nn::GRU::new(3, 4, rnn_config(|c| c.bidirectional = true)), gru_run)),
    );
    add(
        "rnn_relu_two_layers",
        Box::new(|| {
            let c = rnn_config(|c| {
                c.num_layers = 2;
                c.nonlinearity = nn::Nonlinearity::Relu;
            });
            with(nn::RNN::new(3, 5, c), rnn_run)
        }),
    );
    add(
        "rnn_unbatched_hx",
        Box::new(|| with(nn::RNN::new(3, 5, Default::default()), rnn_run)),
    );
    type MhaOpts<'a> = nn::MultiheadAttentionForwardOpts<'a>;
    fn mha_run(m: &nn::MultiheadAttention, xs: &[Tensor], opts: MhaOpts) -> Result<Tensor> {
        let (q, k, v) = match xs.len() {
            3 => (&xs[0], &xs[1], &xs[2]),
            _ => (&xs[0], &xs[0], &xs[0]),
        };
        let (out, weights) = m.forward(q, k, v, opts)?;
        cat_rnn(&std::iter::once(out).chain(weights).collect::<Vec<_>>())
    }
    add(
        "mha",
        Box::new(|| {
            with(nn::MultiheadAttention::new(4, 2, Default::default()), |m, xs| {
                mha_run(m, xs, Default::default())
            })
        }),
    );
    add(
        "mha_kdim_vdim_bias_kv_zero_attn_batch_first",
        Box::new(|| {
            let c = nn::MultiheadAttentionConfig {
                kdim: Some(3),
                vdim: Some(5),
                add_bias_kv: true,
                add_zero_attn: true,
                batch_first: true,
                ..Default::default()
            };
            with(nn::MultiheadAttention::new(4, 2, c), |m, xs| {
                mha_run(m, xs, Default::default())
            })
        }),
    );
    add(
        "mha_dropout_no_weights",
        Box::new(|| {
            let c = nn::MultiheadAttentionConfig {
                dropout: 0.2,
                bias: false,
                ..Default::default()
            };
            let opts = || MhaOpts {
                need_weights: false,
                ..Default::default()
            };
            with(nn::MultiheadAttention::new(4, 2, c), move |m, xs| {
                Ok(m.forward(&xs[0], &xs[0], &xs[0], opts())?.0)
            })
        }),
    );
    add(
        "mha_eval_padding_mask_per_head",
        Box::new(|| {
            let c = nn::MultiheadAttentionConfig {
                batch_first: true,
                ..Default::default()
            };
            with(nn::MultiheadAttention::new(4, 2, c), |m, xs| {
                let opts = MhaOpts {
                    key_padding_mask: Some(&xs[1]),
                    average_attn_weights: false,
                    ..Default::default()
                };
                mha_run(m, &xs[..1], opts)
            })
        }),
    );
    fn encoder(
        d_ff: usize,
        edit: impl Fn(&mut nn::TransformerEncoderLayerConfig),
    ) -> Result<nn::TransformerEncoderLayer> {
        let mut c = nn::TransformerEncoderLayerConfig {
            dim_feedforward: d_ff,
            ..Default::default()
        };
        edit(&mut c);
        nn::TransformerEncoderLayer::new(4, 2, c)
    }
    add("transformer_encoder_layer", Box::new(|| layer(encoder(8, |_| {}))));
    add(
        "transformer_encoder_layer_gelu_norm_first_batch_first_eval",
        Box::new(|| {
            let m = encoder(6, |c| {
                c.activation = nn::TransformerActivation::Gelu;
                c.norm_first = true;
                c.batch_first = true;
            });
            with(m, |m, xs| {
                let opts = nn::TransformerEncoderLayerForwardOpts {
                    src_key_padding_mask: Some(&xs[1]),
                    ..Default::default()
                };
                m.forward_with(&xs[0], opts)
            })
        }),
    );
    add(
        "transformer_encoder_layer_nobias_causal_f64",
        Box::new(|| {
            let c = nn::TransformerEncoderLayerConfig {
                dim_feedforward: 5,
                dropout: 0.0,
                bias: false,
                layer_norm_eps: 1e-3,
                dtype: Some(DType::F64),
                ..Default::default()
            };
            with(nn::TransformerEncoderLayer::new(4, 1, c), |m, xs| {
                let opts = nn::TransformerEncoderLayerForwardOpts {
                    src_mask: Some(&xs[1]),
                    is_causal: true,
                    ..Default::default()
                };
                m.forward_with(&xs[0], opts)
            })
        }),
    );
}

fn activation_builders(add: &mut impl FnMut(&'static str, Builder)) {
    add("act_relu", Box::new(|| layer(Ok(nn::ReLU::new()))));
    add("act_relu6", Box::new(|| layer(Ok(nn::ReLU6::new()))));
    add(
        "act_leakyrelu_0_2",
        Box::new(|| layer(Ok(nn::LeakyReLU::new(F::LeakyReluOpts { negative_slope: 0.2 })))),
    );
    add(
        "act_elu_alpha_0_5",
        Box::new(|| layer(Ok(nn::ELU::new(F::EluOpts { alpha: 0.5 })))),
    );
    add("act_selu", Box::new(|| layer(Ok(nn::SELU::new()))));
    add(
        "act_celu_alpha_2_0",
        Box::new(|| layer(Ok(nn::CELU::new(F::CeluOpts { alpha: 2.0 })))),
    );
    add("act_gelu", Box::new(|| layer(Ok(nn::GELU::default()))));
    add(
        "act_gelu_approximate_tanh",
        Box::new(|| {
            layer(Ok(nn::GELU::new(F::GeluOpts {
                approximate: F::Approximate::Tanh,
            })))
        }),
    );
    add("act_silu", Box::new(|| layer(Ok(nn::SiLU::new()))));
    add("act_mish", Box::new(|| layer(Ok(nn::Mish::new()))));
    add(
        "act_softplus_beta_2_0_threshold_1_0",
        Box::new(|| {
            layer(Ok(nn::Softplus::new(F::SoftplusOpts {
                beta: 2.0,
                threshold: 1.0,
            })))
        }),
    );
    add("act_softsign", Box::new(|| layer(Ok(nn::Softsign::new()))));
    add(
        "act_hardtanh_0_5_1_5",
        Box::new(|| {
            layer(Ok(nn::Hardtanh::new(F::HardtanhOpts {
                min_val: -0.5,
                max_val: 1.5,
            })))
        }),
    );
    add("act_hardsigmoid", Box::new(|| layer(Ok(nn::Hardsigmoid::new()))));
    add("act_hardswish", Box::new(|| layer(Ok(nn::Hardswish::new()))));
    add("act_logsigmoid", Box::new(|| layer(Ok(nn::LogSigmoid::new()))));
    let dim = |d: i64| F::SoftmaxOpts {
        dim: Some(d),
        dtype: None,
    };
    add(
        "act_softmax_dim_1",
        Box::new(move || layer(Ok(nn::Softmax::new(dim(1))))),
    );
    add(
        "act_logsoftmax_dim_0",
        Box::new(move || layer(Ok(nn::LogSoftmax::new(dim(0))))),
    );
    add(
        "act_softmin_dim_1",
        Box::new(move || layer(Ok(nn::Softmin::new(dim(-1))))),
    );
    add("act_glu", Box::new(|| layer(Ok(nn::GLU::default()))));
    add("act_tanh", Box::new(|| layer(Ok(nn::Tanh::new()))));
    add("act_sigmoid", Box::new(|| layer(Ok(nn::Sigmoid::new()))));
    add("act_tanhshrink", Box::new(|| layer(Ok(nn::Tanhshrink::new()))));
    add(
        "act_threshold_0_1_3_0",
        Box::new(|| layer(Ok(nn::Threshold::new(0.1, -3.0)))),
    );
    add("act_prelu", Box::new(|| layer(nn::PReLU::new(1, 0.25, None))));
    add("act_prelu_4_init_0_1", Box::new(|| layer(nn::PReLU::new(4, 0.1, None))));
}

fn loss_builders(add: &mut impl FnMut(&'static str, Builder)) {
    add(
        "loss_ce",
        Box::new(|| two(nn::CrossEntropyLoss::default(), nn::CrossEntropyLoss::forward)),
    );
    add(
        "loss_ce_weight",
        Box::new(|| {
            let opts = F::CrossEntropyOpts {
                ignore_index: 1,
                label_smoothing: 0.1,
                ..Default::default()
            };
            two(
                nn::CrossEntropyLoss::new(Some(class_weight()), opts),
                nn::CrossEntropyLoss::forward,
            )
        }),
    );
    add(
        "loss_nll",
        Box::new(|| {
            let opts = F::NllLossOpts {
                reduction: Reduction::Sum,
                ..Default::default()
            };
            two(nn::NLLLoss::new(Some(class_weight()), opts), nn::NLLLoss::forward)
        }),
    );
    add(
        "loss_mse",
        Box::new(|| two(nn::MSELoss::default(), nn::MSELoss::forward)),
    );
    add(
        "loss_l1",
        Box::new(|| two(nn::L1Loss::new(Reduction::Sum), nn::L1Loss::forward)),
    );
    add(
        "loss_smooth_l1",
        Box::new(|| {
            let opts = F::SmoothL1LossOpts {
                beta: 0.5,
                ..Default::default()
            };
            two(nn::SmoothL1Loss::new(opts), nn::SmoothL1Loss::forward)
        }),
    );
    add(
        "loss_huber",
        Box::new(|| two(nn::HuberLoss::new(Reduction::None, 0.7), nn::HuberLoss::forward)),
    );
    add(
        "loss_bce",
        Box::new(|| {
            two(
                nn::BCELoss::new(Some(class_weight()), Default::default()),
                nn::BCELoss::forward,
            )
        }),
    );
    add(
        "loss_bce_logits",
        Box::new(|| {
            two(
                nn::BCEWithLogitsLoss::new(None, Reduction::Mean, Some(class_weight())),
                nn::BCEWithLogitsLoss::forward,
            )
        }),
    );
    add(
        "loss_kl",
        Box::new(|| {
            let opts = F::KlDivOpts {
                reduction: F::KlDivReduction::BatchMean,
                ..Default::default()
            };
            two(nn::KLDivLoss::new(opts), nn::KLDivLoss::forward)
        }),
    );
    add(
        "loss_margin_ranking",
        Box::new(|| {
            let opts = F::MarginRankingLossOpts {
                margin: 0.2,
                ..Default::default()
            };
            three(nn::MarginRankingLoss::new(opts), nn::MarginRankingLoss::forward)
        }),
    );
    add(
        "loss_hinge",
        Box::new(|| {
            let opts = F::HingeEmbeddingLossOpts {
                margin: 1.5,
                ..Default::default()
            };
            two(nn::HingeEmbeddingLoss::new(opts), nn::HingeEmbeddingLoss::forward)
        }),
    );
    add(
        "loss_cosine",
        Box::new(|| {
            let opts = F::CosineEmbeddingLossOpts {
                margin: 0.1,
                ..Default::default()
            };
            three(nn::CosineEmbeddingLoss::new(opts), nn::CosineEmbeddingLoss::forward)
        }),
    );
    add(
        "loss_triplet",
        Box::new(|| {
            let opts = F::TripletMarginLossOpts {
                margin: 0.5,
                p: 1.0,
                ..Default::default()
            };
            three(nn::TripletMarginLoss::new(opts), nn::TripletMarginLoss::forward)
        }),
    );
    add(
        "loss_poisson",
        Box::new(|| two(nn::PoissonNLLLoss::default(), nn::PoissonNLLLoss::forward)),
    );
    add(
        "loss_gaussian",
        Box::new(|| three(nn::GaussianNLLLoss::default(), nn::GaussianNLLLoss::forward)),
    );
    add(
        "loss_ctc",
        Box::new(|| {
            with(Ok(nn::CTCLoss::default()), |m, xs| {
                m.forward(&xs[0], &xs[1], &xs[2], &xs[3])
            })
        }),
    );
}

// ---------------------------------------------------------------- checks

fn check_state(what: &str, ours: &StateDict, rec: &[&toml::Table], exact: bool) {
    let names: Vec<&str> = rec.iter().map(|t| str_of(t, "name")).collect();
    assert_eq!(ours.keys(), names, "{what}: state_dict keys differ from PyTorch");
    for t in rec {
        let n = str_of(t, "name");
        compare(&format!("{what}: {n}"), ours.get(n).unwrap(), t, exact);
    }
}

fn names<T>(v: &[(String, T)]) -> Vec<&str> {
    v.iter().map(|(n, _)| n.as_str()).collect()
}

fn check_layer(rec: &toml::Table, builders: &HashMap<&'static str, Builder>) {
    let seed = rec.get("seed").and_then(|s| s.as_integer()).unwrap() as u64;
    let what = format!(
        "layer {} (seed {seed}, Python: {})",
        str_of(rec, "name"),
        str_of(rec, "python")
    );
    // The default generator is shared with the tests running side by side.
    let _rng = frankentorch::testing::seeded(seed);
    let mut built = builders[str_of(rec, "name")]().unwrap_or_else(|e| panic!("{what}: construction failed: {e}"));
    let m = built.module();
    check_state(&what, &m.state_dict(), &tables(rec, "state"), true);
    assert_eq!(
        names(&m.named_parameters()),
        strings(rec, "params"),
        "{what}: named_parameters"
    );
    assert_eq!(
        names(&m.named_buffers()),
        strings(rec, "buffers"),
        "{what}: named_buffers"
    );
    let modules = m.named_modules();
    assert_eq!(names(&modules), strings(rec, "modules"), "{what}: named_modules");
    let types: Vec<&str> = modules.iter().map(|(_, m)| m.type_name()).collect();
    assert_eq!(types, strings(rec, "types"), "{what}: module class names");
    let Some(_) = rec.get("output") else { return };
    built.module_mut().train(str_of(rec, "mode") == "train");
    let grad_inputs: Vec<usize> = numbers(rec, "grad_inputs").into_iter().map(|i| i as usize).collect();
    let xs: Vec<Tensor> = tables(rec, "inputs").into_iter().map(build).collect();
    for &i in &grad_inputs {
        xs[i].requires_grad_(true).unwrap();
    }
    let steps = rec.get("steps").and_then(|s| s.as_integer()).unwrap();
    let forward_seed = rec.get("forward_seed").and_then(|s| s.as_integer());
    let mut out = None;
    for _ in 0..steps {
        if let Some(s) = forward_seed {
            manual_seed(s as u64);
        }
        out = Some(built.run(&xs).unwrap_or_else(|e| panic!("{what}: forward failed: {e}")));
    }
    let out = out.unwrap();
    compare(&format!("{what}: output"), &out, table(rec, "output"), false);
    let up = build(table(rec, "upstream"));
    let loss = ops::sum(&ops::mul(&out, &up).unwrap()).unwrap();
    let m = built.module();
    let mut leaves: Vec<(String, Tensor)> = grad_inputs
        .iter()
        .map(|i| (format!("input{i}"), xs[*i].clone()))
        .collect();
    leaves.extend(m.named_parameters());
    let tensors: Vec<Tensor> = leaves.iter().map(|(_, t)| t.clone()).collect();
    let grads = grad(&[loss], &tensors, &[None], None, false, true).unwrap_or_else(|e| panic!("{what}: backward: {e}"));
    let ours: Vec<(String, Tensor)> = leaves
        .into_iter()
        .zip(grads)
        .filter_map(|((n, _), g)| g.map(|g| (n, g)))
        .collect();
    let recorded = tables(rec, "grads");
    assert_eq!(
        names(&ours),
        recorded.iter().map(|t| str_of(t, "name")).collect::<Vec<_>>(),
        "{what}: which leaves get gradients"
    );
    for ((n, g), r) in ours.iter().zip(recorded) {
        compare(&format!("{what}: gradient of {n}"), g, r, false);
    }
    check_state(
        &format!("{what} after forward"),
        &m.state_dict(),
        &tables(rec, "after"),
        false,
    );
}

#[test]
fn layers_match_pytorch() {
    let fx = fixture("modules");
    let builders = layer_builders();
    let recs = tables(&fx, "layer");
    let recorded: BTreeSet<&str> = recs.iter().map(|r| str_of(r, "name")).collect();
    let ours: BTreeSet<&str> = builders.keys().copied().collect();
    assert_eq!(recorded, ours, "cases differ between the fixture and tests/modules.rs");
    run_all("layer", &recs, |r| check_layer(r, &builders));
}

// ---------------------------------------------------------------- init

type InitFn = Box<dyn Fn(&Tensor) -> Result<Tensor>>;

fn init_fns() -> HashMap<&'static str, InitFn> {
    let k = |mode: FanMode, nonlinearity: Nonlinearity, a: f64| KaimingOpts {
        a,
        mode,
        nonlinearity,
        generator: None,
    };
    let mut m: HashMap<&'static str, InitFn> = HashMap::new();
    m.insert("uniform", Box::new(|t| init::uniform_(t, -0.5, 2.0, None)));
    m.insert("normal", Box::new(|t| init::normal_(t, 1.0, 0.3, None)));
    m.insert("normal_odd", Box::new(|t| init::normal_(t, 0.0, 1.0, None)));
    m.insert("normal_big", Box::new(|t| init::normal_(t, 0.0, 1.0, None)));
    m.insert("constant", Box::new(|t| init::constant_(t, 0.25)));
    m.insert("ones", Box::new(init::ones_));
    m.insert("zeros", Box::new(init::zeros_));
    m.insert("eye", Box::new(init::eye_));
    m.insert("eye_err", Box::new(init::eye_));
    m.insert("dirac", Box::new(|t| init::dirac_(t, 1)));
    m.insert("dirac_groups", Box::new(|t| init::dirac_(t, 2)));
    m.insert("dirac_err", Box::new(|t| init::dirac_(t, 1)));
    m.insert("xavier_uniform", Box::new(|t| init::xavier_uniform_(t, 1.0, None)));
    m.insert(
        "xavier_uniform_gain",
        Box::new(|t| init::xavier_uniform_(t, init::calculate_gain(Nonlinearity::Relu, None), None)),
    );
    m.insert("xavier_normal", Box::new(|t| init::xavier_normal_(t, 0.5, None)));
    m.insert(
        "kaiming_uniform",
        Box::new(|t| init::kaiming_uniform_(t, Default::default())),
    );
    m.insert(
        "kaiming_uniform_fan_out_relu",
        Box::new(move |t| init::kaiming_uniform_(t, k(FanMode::FanOut, Nonlinearity::Relu, 0.0))),
    );
    m.insert(
        "kaiming_uniform_a",
        Box::new(move |t| init::kaiming_uniform_(t, k(FanMode::FanIn, Nonlinearity::LeakyRelu, 5f64.sqrt()))),
    );
    m.insert(
        "kaiming_normal",
        Box::new(|t| init::kaiming_normal_(t, Default::default())),
    );
    m.insert(
        "kaiming_normal_fan_out_tanh",
        Box::new(move |t| init::kaiming_normal_(t, k(FanMode::FanOut, Nonlinearity::Tanh, 0.0))),
    );
    m.insert(
        "kaiming_normal_selu",
        Box::new(move |t| init::kaiming_normal_(t, k(FanMode::FanIn, Nonlinearity::Selu, 0.0))),
    );
    m.insert(
        "kaiming_err_1d",
        Box::new(|t| init::kaiming_uniform_(t, Default::default())),
    );
    m.insert(
        "kaiming_empty",
        Box::new(|t| init::kaiming_uniform_(t, Default::default())),
    );
    m
}

#[test]
fn init_matches_pytorch() {
    let fx = fixture("modules");
    let fns = init_fns();
    let recs = tables(&fx, "init");
    let recorded: BTreeSet<&str> = recs.iter().map(|r| str_of(r, "name")).collect();
    assert_eq!(recorded, fns.keys().copied().collect(), "init cases differ");
    run_all("init", &recs, |rec| {
        let seed = rec.get("seed").and_then(|s| s.as_integer()).unwrap() as u64;
        let what = format!(
            "init {} (seed {seed}, Python: {})",
            str_of(rec, "name"),
            str_of(rec, "python")
        );
        // The default generator is shared with the tests running side by side.
        let _rng = frankentorch::testing::seeded(seed);
        let shape: Vec<i64> = numbers(rec, "shape").into_iter().map(|s| s as i64).collect();
        let t = ops::empty(&shape).unwrap();
        let r = fns[str_of(rec, "name")](&t);
        if let Some(err) = rec.get("error").and_then(|e| e.as_str()) {
            let e = r
                .err()
                .unwrap_or_else(|| panic!("{what}: PyTorch raised {err:?}, we succeeded"));
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{what}");
            assert!(e.message().contains(err), "{what}: {e} lacks {err:?}");
            return;
        }
        let out = r.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(out.is_same(&t), "{what}: must return the tensor it filled");
        compare(&what, &t, table(rec, "result"), true);
    });
    for g in fx.get("gains").and_then(|g| g.as_array()).unwrap() {
        let g = g.as_array().unwrap();
        let name = g[0].as_str().unwrap();
        let num = |v: &toml::Value| v.as_float().or_else(|| v.as_integer().map(|i| i as f64)).unwrap();
        let param = num(&g[1]);
        let ours = init::calculate_gain(Nonlinearity::from_name(name).unwrap(), (param >= 0.0).then_some(param));
        assert_eq!(ours, num(&g[2]), "calculate_gain({name}, {param})");
    }
    assert!(Nonlinearity::from_name("swish").is_err());
}

// ---------------------------------------------------------------- load_state_dict

fn load_builder(python: &str) -> Result<Box<dyn Module>> {
    Ok(match python {
        "nn.Linear(3, 2)" => Box::new(nn::Linear::new(3, 2, Default::default())?),
        "nn.Sequential(nn.Linear(3, 2), nn.ReLU())" => Box::new(
            nn::Sequential::new()
                .append(nn::Linear::new(3, 2, Default::default())?)
                .append(nn::ReLU::new()),
        ),
        "nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))" => Box::new(
            nn::Sequential::new()
                .append(nn::Linear::new(3, 2, Default::default())?)
                .append(nn::BatchNorm1d::new(2, Default::default())?),
        ),
        "nn.BatchNorm1d(3)" => Box::new(nn::BatchNorm1d::new(3, Default::default())?),
        "Net()" => Box::new(Net::new()?),
        other => panic!("no Rust builder for {other}"),
    })
}

#[test]
fn load_state_dict_matches_pytorch() {
    let fx = fixture("modules");
    run_all("load", &tables(&fx, "load"), |rec| {
        let what = format!("load {} ({})", str_of(rec, "name"), str_of(rec, "python"));
        // The default generator is shared with the tests running side by side.
        let _rng = frankentorch::testing::seeded(0);
        let m = load_builder(str_of(rec, "build")).unwrap();
        let sd: StateDict = tables(rec, "sd")
            .into_iter()
            .map(|t| (str_of(t, "name").to_string(), build(t)))
            .collect();
        let strict = rec.get("strict").and_then(|s| s.as_bool()).unwrap();
        let r = m.load_state_dict(&sd, strict);
        if let Some(err) = rec.get("error").and_then(|e| e.as_str()) {
            let e = r
                .err()
                .unwrap_or_else(|| panic!("{what}: PyTorch raised, we succeeded"));
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{what}");
            assert_eq!(e.message(), err, "{what}: message differs from PyTorch");
            return;
        }
        let keys = r.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(keys.missing_keys, strings(rec, "missing"), "{what}: missing keys");
        assert_eq!(
            keys.unexpected_keys,
            strings(rec, "unexpected"),
            "{what}: unexpected keys"
        );
        check_state(&what, &m.state_dict(), &tables(rec, "after"), true);
    });
}

/// Loaded values are the ones the module computes with.
#[test]
fn loaded_values_are_used() {
    // The default generator is shared with the tests running side by side.
    let _rng = frankentorch::testing::seeded(0);
    let a = nn::Linear::new(3, 2, Default::default()).unwrap();
    let b = nn::Linear::new(3, 2, Default::default()).unwrap();
    let x = ops::ones(&[1, 3]).unwrap();
    assert_ne!(a.forward(&x).unwrap().to_f64_vec(), b.forward(&x).unwrap().to_f64_vec());
    b.load_state_dict(&a.state_dict(), true).unwrap();
    assert_eq!(a.forward(&x).unwrap().to_f64_vec(), b.forward(&x).unwrap().to_f64_vec());
    assert!(
        b.weight.requires_grad() && b.weight.is_leaf(),
        "loading keeps parameters leaves"
    );
}

// ---------------------------------------------------------------- programs

fn program<'a>(fx: &'a toml::Table, name: &str) -> &'a toml::Table {
    tables(fx, "program")
        .into_iter()
        .find(|p| str_of(p, "name") == name)
        .unwrap_or_else(|| panic!("no program {name}"))
}

fn net_input() -> Tensor {
    let fx = fixture("modules");
    let rec = tables(&fx, "layer")
        .into_iter()
        .find(|r| str_of(r, "name") == "net")
        .unwrap();
    build(tables(rec, "inputs")[0])
}

#[test]
fn train_eval_propagate_like_pytorch() {
    let fx = fixture("modules");
    let p = program(&fx, "train_eval");
    // The default generator is shared with the tests running side by side.
    let _rng = frankentorch::testing::seeded(0);
    let mut net = Net::new().unwrap();
    net.eval();
    let flags: Vec<bool> = net.modules().iter().map(|m| m.training()).collect();
    assert_eq!(flags, bools(p, "flags_eval"));
    net.features.train(true);
    let flags: Vec<bool> = net.modules().iter().map(|m| m.training()).collect();
    assert_eq!(flags, bools(p, "flags_features_train"));
}

#[test]
fn zero_grad_like_pytorch() {
    let fx = fixture("modules");
    let p = program(&fx, "zero_grad");
    // The default generator is shared with the tests running side by side.
    let _rng = frankentorch::testing::seeded(0);
    let net = Net::new().unwrap();
    backward(&ops::sum(&net.forward(&net_input()).unwrap()).unwrap()).unwrap();
    let had: Vec<bool> = net.parameters().iter().map(|p| p.grad().is_some()).collect();
    assert_eq!(had, bools(p, "had_grad"));
    net.zero_grad_with(false).unwrap();
    let zeroed: Vec<bool> = net
        .parameters()
        .iter()
        .map(|p| p.grad().is_some_and(|g| g.to_f64_vec().iter().all(|v| *v == 0.0)))
        .collect();
    assert_eq!(zeroed, bools(p, "zeroed_in_place"));
    net.zero_grad().unwrap();
    let none: Vec<bool> = net.parameters().iter().map(|p| p.grad().is_none()).collect();
    assert_eq!(none, bools(p, "set_to_none"));
}

#[test]
fn to_float64_like_pytorch() {
    let fx = fixture("modules");
    let p = program(&fx, "to_float64");
    // The default generator is shared with the tests running side by side.
    let _rng = frankentorch::testing::seeded(0);
    let mut net = Net::new().unwrap();
    net.to_dtype(DType::F64).unwrap();
    let rg: Vec<bool> = net.parameters().iter().map(|p| p.requires_grad()).collect();
    assert_eq!(rg, bools(p, "requires_grad"));
    let x = ops::_to_copy_full(
        &build(table(p, "input")),
        Some(DType::F64),
        None,
        None,
        None,
        false,
        None,
    )
    .unwrap();
    compare(
        "to(float64) output",
        &net.forward(&x).unwrap(),
        table(p, "output"),
        false,
    );
    // Recorded after that (training) forward, which moved the running statistics.
    check_state("to(float64)", &net.state_dict(), &tables(p, "state"), false);
    let bufs = net.named_buffers();
    let recorded = tables(p, "buffers");
    assert_eq!(
        names(&bufs),
        recorded.iter().map(|t| str_of(t, "name")).collect::<Vec<_>>()
    );
    for ((n, b), r) in bufs.iter().zip(recorded) {
        compare(&format!("to(float64) buffer {n}"), b, r, false);
    }
    assert!(
        net.to_dtype(DType::I64).is_err(),
        "integer dtypes are refused as in torch"
    );

    let p = program(&fx, "to_float64_tied");
    // (The generator is still reserved by the guard above.)
    manual_seed(0);
    let mut tied = Tied::new().unwrap();
    tied.to_dtype(DType::F64).unwrap();
    assert_eq!(
        tied.a.weight.is_same(&tied.b.weight),
        p.get("shared").unwrap().as_bool().unwrap()
    );
    assert_eq!(names(&tied.named_parameters()), strings(p, "params"));
}

/// `apply` visits children first, then the module itself, as torch's does.
#[test]
fn apply_visits_children_first() {
    let mut net = Net::new().unwrap();
    let mut seen = vec![];
    net.apply(&mut |m| seen.push(m.type_name().to_string()));
    assert_eq!(
        seen,
        [
            "Conv2d",
            "BatchNorm2d",
            "ReLU",
            "Flatten",
            "Sequential",
            "Linear",
            "Linear",
            "ModuleList",
            "Linear",
            "Tanh",
            "ModuleDict",
            "Net"
        ]
    );
    // apply can re-initialise parameters in place through the shared handles.
    net.apply(&mut |m| {
        if m.type_name() == "Linear" {
            for p in m.parameters() {
                init::zeros_(&p).unwrap();
            }
        }
    });
    assert!(net.heads[0].weight.to_f64_vec().iter().all(|v| *v == 0.0));
}

/// Constructor and forward errors name the layer, with torch's text.
#[test]
fn bad_arguments_are_errors() {
    let e = |r: Result<()>| r.unwrap_err();
    let conv_groups = e(nn::Conv2d::new(3, 4, [3, 3], conv(|c| c.groups = 2)).map(|_| ()));
    assert_eq!(conv_groups.message(), "in_channels must be divisible by groups");
    let same = e(nn::Conv2d::new(
        2,
        2,
        [3, 3],
        conv(|c| {
            c.padding = F::ConvPadding::Same;
            c.stride = [2, 2];
        }),
    )
    .map(|_| ()));
    assert_eq!(
        same.message(),
        "padding='same' is not supported for strided convolutions"
    );
    let tpad = e(nn::ConvTranspose2d::new(
        2,
        2,
        [3, 3],
        nn::ConvTranspose2dConfig {
            padding_mode: nn::PaddingMode::Reflect,
            ..Default::default()
        },
    )
    .map(|_| ()));
    assert!(tpad.message().contains("Only \"zeros\" padding mode"));
    let bn = nn::BatchNorm2d::new(3, Default::default()).unwrap();
    let dims = bn.forward(&ops::ones(&[2, 3]).unwrap()).unwrap_err();
    assert_eq!(dims.message(), "expected 4D input (got 2D input)");
    assert_eq!(dims.op(), "nn.BatchNorm2d");
    let pad = e(nn::Embedding::new(
        3,
        2,
        nn::EmbeddingConfig {
            padding_idx: Some(3),
            ..Default::default()
        },
    )
    .map(|_| ()));
    assert_eq!(pad.message(), "Padding_idx must be within num_embeddings");
    let pre = e(nn::Embedding::from_pretrained(&ops::ones(&[3]).unwrap(), true, Default::default()).map(|_| ()));
    assert_eq!(pre.message(), "Embeddings parameter is expected to be 2-dimensional");
    assert!(nn::Dropout::new(-0.1).is_err());
    assert!(nn::GroupNorm::new(3, 4, Default::default()).is_err());
    assert!(nn::Sequential::new().get(0).is_err());
}

/// `from_pretrained` shares the given tensor's storage and honours `freeze`.
#[test]
fn embedding_from_pretrained() {
    let w = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]).unwrap();
    let e = nn::Embedding::from_pretrained(&w, false, Default::default()).unwrap();
    assert!(e.weight.requires_grad());
    let idx = Tensor::from_vec(vec![2i64, 0], &[2]).unwrap();
    assert_eq!(
        e.forward(&idx).unwrap().to_vec::<f32>().unwrap(),
        vec![5.0, 6.0, 1.0, 2.0]
    );
    w.fill_(0.0).unwrap();
    assert!(e.weight.to_f64_vec().iter().all(|v| *v == 0.0), "storage is shared");
}
