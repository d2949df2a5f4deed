//! The layer functions of `nn::functional` against PyTorch: every case of
//! `tests/fixtures/scenarios/nn_functional.toml` (written by
//! `tools/oracle/scenarios/nn_functional.py`, which calls the real
//! `torch.nn.functional`) is run here through `F::`, under the same name as
//! the Python call it mirrors. Outputs, in-place updates (running
//! statistics), gradients of `sum(out0 * W)` and errors are compared. A case
//! missing on either side fails the test.

use frankentorch::nn::functional as F;
use frankentorch::prelude::*;
use std::collections::{BTreeSet, HashMap};

#[path = "support/scenario.rs"]
mod scenario;
use scenario::{build, check_error, fixture, run_all, str_of, tables};

/// Values within `assert_close`'s default tolerance of the record.
fn compare(what: &str, ours: &Tensor, rec: &toml::Table) {
    scenario::compare(what, ours, rec, false)
}

/// The named input tensors of one case.
struct In(HashMap<String, Tensor>);

impl In {
    /// The input called `name`.
    fn t(&self, name: &str) -> &Tensor {
        self.0.get(name).unwrap_or_else(|| panic!("no input named {name}"))
    }
}

type Case = fn(&In) -> Result<Vec<Tensor>>;

/// One output.
fn one(r: Result<Tensor>) -> Result<Vec<Tensor>> {
    r.map(|t| vec![t])
}

/// Two outputs (values and indices).
fn two(r: Result<(Tensor, Tensor)>) -> Result<Vec<Tensor>> {
    r.map(|(a, b)| vec![a, b])
}

/// The Rust spelling of every scenario (the Python one is in the fixture).
fn cases() -> Vec<(&'static str, Case)> {
    let mut all = Vec::new();
    all.extend(linear_cases());
    all.extend(conv_cases());
    all.extend(pooling_cases());
    all.extend(norm_cases());
    all.extend(embedding_cases());
    all.extend(pad_cases());
    all.extend(vision_cases());
    all.extend(attention_cases());
    all.extend(distance_cases());
    all.extend(recurrent_cases());
    all.extend(multi_head_attention_cases());
    all
}

fn linear_cases() -> Vec<(&'static str, Case)> {
    vec![
        ("linear_bias", |v| {
            one(F::linear(v.t("x"), v.t("w"), F::LinearOpts { bias: Some(v.t("b")) }))
        }),
        ("linear_no_bias_3d", |v| {
            one(F::linear(v.t("x"), v.t("w"), Default::default()))
        }),
        ("linear_f32", |v| one(F::linear(v.t("x"), v.t("w"), Default::default()))),
        ("err_linear_shape", |v| {
            one(F::linear(v.t("x"), v.t("w"), Default::default()))
        }),
    ]
}

fn conv_cases() -> Vec<(&'static str, Case)> {
    use F::ConvPadding::{Same, Valid};
    vec![
        ("conv1d_default", |v| {
            one(F::conv1d(v.t("x"), v.t("wt"), Default::default()))
        }),
        ("conv1d_all_options", |v| {
            let x = v.t("x").i((.., 0..2))?;
            let opts = F::Conv1dOpts {
                bias: Some(v.t("b")),
                stride: [2],
                padding: [1].into(),
                dilation: [2],
                groups: 2,
            };
            one(F::conv1d(&x, v.t("wt"), opts))
        }),
        ("conv1d_same", |v| {
            one(F::conv1d(
                v.t("x"),
                v.t("wt"),
                F::Conv1dOpts {
                    padding: Same,
                    ..Default::default()
                },
            ))
        }),
        ("conv1d_valid", |v| {
            let opts = F::Conv1dOpts {
                padding: Valid,
                stride: [3],
                ..Default::default()
            };
            one(F::conv1d(v.t("x"), v.t("wt"), opts))
        }),
        ("conv1d_unbatched", |v| {
            one(F::conv1d(v.t("x"), v.t("wt"), Default::default()))
        }),
        ("conv2d_default", |v| {
            one(F::conv2d(
                v.t("x"),
                v.t("wt"),
                F::Conv2dOpts {
                    bias: Some(v.t("b")),
                    ..Default::default()
                },
            ))
        }),
        ("conv2d_stride_padding_dilation", |v| {
            let opts = F::Conv2dOpts {
                stride: [2, 1],
                padding: [1, 2].into(),
                dilation: [2, 1],
                ..Default::default()
            };
            one(F::conv2d(v.t("x"), v.t("wt"), opts))
        }),
        ("conv2d_groups", |v| {
            let opts = F::Conv2dOpts {
                bias: Some(v.t("b")),
                groups: 2,
                ..Default::default()
            };
            one(F::conv2d(v.t("x"), v.t("wt"), opts))
        }),
        ("conv2d_same_even_kernel", |v| {
            let opts = F::Conv2dOpts {
                padding: Same,
                dilation: [1, 3],
                ..Default::default()
            };
            one(F::conv2d(v.t("x"), v.t("wt"), opts))
        }),
        ("conv2d_valid", |v| {
            one(F::conv2d(
                v.t("x"),
                v.t("wt"),
                F::Conv2dOpts {
                    padding: Valid,
                    ..Default::default()
                },
            ))
        }),
        ("conv2d_unbatched_f32", |v| {
            one(F::conv2d(
                v.t("x"),
                v.t("wt"),
                F::Conv2dOpts {
                    padding: [1, 1].into(),
                    ..Default::default()
                },
            ))
        }),
        ("err_conv2d_kernel_too_large", |v| {
            one(F::conv2d(v.t("x"), v.t("wt"), Default::default()))
        }),
        ("err_conv2d_groups", |v| {
            one(F::conv2d(
                v.t("x"),
                v.t("wt"),
                F::Conv2dOpts {
                    groups: 4,
                    ..Default::default()
                },
            ))
        }),
        ("err_conv2d_channels", |v| {
            one(F::conv2d(v.t("x"), v.t("wt"), Default::default()))
        }),
        ("err_conv2d_same_strided", |v| {
            let opts = F::Conv2dOpts {
                stride: [2, 2],
                padding: Same,
                ..Default::default()
            };
            one(F::conv2d(v.t("x"), v.t("wt"), opts))
        }),
        ("err_conv2d_bad_dims", |v| {
            one(F::conv2d(v.t("x"), v.t("wt"), Default::default()))
        }),
        ("conv_transpose2d_default", |v| {
            let opts = F::ConvTranspose2dOpts {
                bias: Some(v.t("b")),
                ..Default::default()
            };
            one(F::conv_transpose2d(v.t("x"), v.t("wt"), opts))
        }),
        ("conv_transpose2d_all_options", |v| {
            let opts = F::ConvTranspose2dOpts {
                bias: None,
                stride: [2, 3],
                padding: [1, 0],
                output_padding: [1, 2],
                groups: 2,
                dilation: [2, 1],
            };
            one(F::conv_transpose2d(v.t("x"), v.t("wt"), opts))
        }),
        ("conv_transpose2d_unbatched", |v| {
            let opts = F::ConvTranspose2dOpts {
                stride: [2, 2],
                ..Default::default()
            };
            one(F::conv_transpose2d(v.t("x"), v.t("wt"), opts))
        }),
        ("conv_transpose1d_options", |v| {
            let opts = F::ConvTranspose1dOpts {
                bias: Some(v.t("b")),
                stride: [2],
                padding: [1],
                output_padding: [1],
                ..Default::default()
            };
            one(F::conv_transpose1d(v.t("x"), v.t("wt"), opts))
        }),
        ("err_conv_transpose2d_output_padding", |v| {
            let opts = F::ConvTranspose2dOpts {
                output_padding: [1, 1],
                ..Default::default()
            };
            one(F::conv_transpose2d(v.t("x"), v.t("wt"), opts))
        }),
    ]
}

fn pooling_cases() -> Vec<(&'static str, Case)> {
    vec![
        ("max_pool2d_default", |v| {
            one(F::max_pool2d(v.t("x"), [2, 2], Default::default()))
        }),
        ("max_pool2d_options", |v| {
            let opts = F::MaxPool2dOpts {
                stride: Some([2, 1]),
                padding: [1, 1],
                dilation: [1, 2],
                ceil_mode: true,
            };
            one(F::max_pool2d(v.t("x"), [3, 2], opts))
        }),
        ("max_pool2d_return_indices", |v| {
            let opts = F::MaxPool2dOpts {
                stride: Some([2, 2]),
                ..Default::default()
            };
            two(F::max_pool2d_with_indices(v.t("x"), [3, 3], opts))
        }),
        ("max_pool2d_with_indices_fn", |v| {
            let opts = F::MaxPool2dOpts {
                ceil_mode: true,
                ..Default::default()
            };
            two(F::max_pool2d_with_indices(v.t("x"), [2, 2], opts))
        }),
        ("max_pool2d_unbatched_f32", |v| {
            let opts = F::MaxPool2dOpts {
                stride: Some([1, 1]),
                ..Default::default()
            };
            one(F::max_pool2d(v.t("x"), [2, 2], opts))
        }),
        ("err_max_pool2d_kernel_too_large", |v| {
            one(F::max_pool2d(v.t("x"), [3, 3], Default::default()))
        }),
        ("err_max_pool2d_padding", |v| {
            one(F::max_pool2d(
                v.t("x"),
                [2, 2],
                F::MaxPool2dOpts {
                    padding: [2, 2],
                    ..Default::default()
                },
            ))
        }),
        ("max_pool1d_default", |v| {
            one(F::max_pool1d(v.t("x"), [3], Default::default()))
        }),
        ("max_pool1d_options", |v| {
            let opts = F::MaxPool1dOpts {
                stride: Some([2]),
                padding: [1],
                dilation: [2],
                ceil_mode: true,
            };
            one(F::max_pool1d(v.t("x"), [3], opts))
        }),
        ("max_pool1d_return_indices", |v| {
            two(F::max_pool1d_with_indices(v.t("x"), [2], Default::default()))
        }),
        ("err_max_pool1d_kernel_too_large", |v| {
            one(F::max_pool1d(v.t("x"), [3], Default::default()))
        }),
        ("avg_pool2d_default", |v| {
            one(F::avg_pool2d(v.t("x"), [2, 2], Default::default()))
        }),
        ("avg_pool2d_options", |v| {
            let opts = F::AvgPool2dOpts {
                stride: Some([2, 1]),
                padding: [1, 1],
                ceil_mode: true,
                count_include_pad: false,
                divisor_override: None,
            };
            one(F::avg_pool2d(v.t("x"), [3, 2], opts))
        }),
        ("avg_pool2d_divisor_override", |v| {
            let opts = F::AvgPool2dOpts {
                stride: Some([2, 2]),
                padding: [1, 1],
                divisor_override: Some(2),
                ..Default::default()
            };
            one(F::avg_pool2d(v.t("x"), [3, 3], opts))
        }),
        ("avg_pool1d_default", |v| {
            one(F::avg_pool1d(v.t("x"), [3], Default::default()))
        }),
        ("avg_pool1d_options", |v| {
            let opts = F::AvgPool1dOpts {
                stride: Some([2]),
                padding: [2],
                ceil_mode: true,
                count_include_pad: false,
            };
            one(F::avg_pool1d(v.t("x"), [4], opts))
        }),
        ("err_avg_pool2d_kernel_too_large", |v| {
            one(F::avg_pool2d(v.t("x"), [3, 3], Default::default()))
        }),
        ("adaptive_avg_pool2d_sizes", |v| {
            one(F::adaptive_avg_pool2d(v.t("x"), [3, 4]))
        }),
        ("adaptive_avg_pool2d_one", |v| {
            one(F::adaptive_avg_pool2d(v.t("x"), [1, 1]))
        }),
        ("adaptive_avg_pool1d_sizes", |v| {
            one(F::adaptive_avg_pool1d(v.t("x"), [4]))
        }),
        ("adaptive_max_pool2d_sizes", |v| {
            one(F::adaptive_max_pool2d(v.t("x"), [3, 4]))
        }),
        ("adaptive_max_pool2d_return_indices", |v| {
            two(F::adaptive_max_pool2d_with_indices(v.t("x"), [2, 2]))
        }),
        ("err_adaptive_max_pool2d_empty", |v| {
            one(F::adaptive_max_pool2d(v.t("x"), [2, 2]))
        }),
    ]
}

fn norm_cases() -> Vec<(&'static str, Case)> {
    vec![
        ("batch_norm_train_running", |v| {
            let opts = F::BatchNormOpts {
                weight: Some(v.t("g")),
                bias: Some(v.t("b")),
                training: true,
                momentum: 0.3,
                ..Default::default()
            };
            one(F::batch_norm(v.t("x"), Some(v.t("rm")), Some(v.t("rv")), opts))
        }),
        ("batch_norm_train_no_stats", |v| {
            let opts = F::BatchNormOpts {
                training: true,
                eps: 1e-3,
                ..Default::default()
            };
            one(F::batch_norm(v.t("x"), None, None, opts))
        }),
        ("batch_norm_eval", |v| {
            let opts = F::BatchNormOpts {
                weight: Some(v.t("g")),
                ..Default::default()
            };
            one(F::batch_norm(v.t("x"), Some(v.t("rm")), Some(v.t("rv")), opts))
        }),
        ("batch_norm_train_f32", |v| {
            let opts = F::BatchNormOpts {
                training: true,
                ..Default::default()
            };
            one(F::batch_norm(v.t("x"), Some(v.t("rm")), Some(v.t("rv")), opts))
        }),
        ("err_batch_norm_one_value", |v| {
            let opts = F::BatchNormOpts {
                training: true,
                ..Default::default()
            };
            one(F::batch_norm(v.t("x"), None, None, opts))
        }),
        ("err_batch_norm_eval_no_stats", |v| {
            one(F::batch_norm(v.t("x"), None, None, Default::default()))
        }),
        ("err_batch_norm_stat_size", |v| {
            one(F::batch_norm(
                v.t("x"),
                Some(v.t("rm")),
                Some(v.t("rv")),
                Default::default(),
            ))
        }),
        ("layer_norm_affine", |v| {
            let opts = F::LayerNormOpts {
                weight: Some(v.t("g")),
                bias: Some(v.t("b")),
                eps: 1e-3,
            };
            one(F::layer_norm(v.t("x"), &[3, 4], opts))
        }),
        ("layer_norm_plain", |v| {
            one(F::layer_norm(v.t("x"), &[4], Default::default()))
        }),
        ("err_layer_norm_shape", |v| {
            one(F::layer_norm(v.t("x"), &[3], Default::default()))
        }),
        ("group_norm_affine", |v| {
            let opts = F::GroupNormOpts {
                weight: Some(v.t("g")),
                bias: Some(v.t("b")),
                eps: 1e-3,
            };
            one(F::group_norm(v.t("x"), 3, opts))
        }),
        ("group_norm_plain", |v| {
            one(F::group_norm(v.t("x"), 2, Default::default()))
        }),
        ("err_group_norm_groups", |v| {
            one(F::group_norm(v.t("x"), 4, Default::default()))
        }),
        ("instance_norm_plain", |v| {
            one(F::instance_norm(v.t("x"), Default::default()))
        }),
        ("instance_norm_running_affine", |v| {
            let opts = F::InstanceNormOpts {
                running_mean: Some(v.t("rm")),
                running_var: Some(v.t("rv")),
                weight: Some(v.t("g")),
                bias: Some(v.t("b")),
                momentum: 0.2,
                eps: 1e-3,
                ..Default::default()
            };
            one(F::instance_norm(v.t("x"), opts))
        }),
        ("instance_norm_running_stats_eval", |v| {
            let opts = F::InstanceNormOpts {
                running_mean: Some(v.t("rm")),
                running_var: Some(v.t("rv")),
                use_input_stats: false,
                ..Default::default()
            };
            one(F::instance_norm(v.t("x"), opts))
        }),
        ("err_instance_norm_one_spatial", |v| {
            one(F::instance_norm(v.t("x"), Default::default()))
        }),
        ("rms_norm_weight", |v| {
            one(F::rms_norm(
                v.t("x"),
                &[4],
                F::RmsNormOpts {
                    weight: Some(v.t("g")),
                    eps: None,
                },
            ))
        }),
        ("rms_norm_eps", |v| {
            one(F::rms_norm(
                v.t("x"),
                &[3, 4],
                F::RmsNormOpts {
                    weight: None,
                    eps: Some(0.5),
                },
            ))
        }),
        ("rms_norm_default_eps_f32", |v| {
            one(F::rms_norm(v.t("x"), &[3], Default::default()))
        }),
        ("rms_norm_bf16", |v| {
            one(F::rms_norm(
                v.t("x"),
                &[3],
                F::RmsNormOpts {
                    weight: Some(v.t("g")),
                    eps: None,
                },
            ))
        }),
    ]
}

fn embedding_cases() -> Vec<(&'static str, Case)> {
    vec![
        ("embedding_plain", |v| {
            one(F::embedding(v.t("i"), v.t("w"), Default::default()))
        }),
        ("embedding_padding_idx", |v| {
            one(F::embedding(
                v.t("i"),
                v.t("w"),
                F::EmbeddingOpts {
                    padding_idx: Some(2),
                    ..Default::default()
                },
            ))
        }),
        ("embedding_negative_padding_idx_scale_grad", |v| {
            let opts = F::EmbeddingOpts {
                padding_idx: Some(-1),
                scale_grad_by_freq: true,
                ..Default::default()
            };
            one(F::embedding(v.t("i"), v.t("w"), opts))
        }),
        ("embedding_max_norm", |v| {
            one(F::embedding(
                v.t("i"),
                v.t("w"),
                F::EmbeddingOpts {
                    max_norm: Some(1.0),
                    ..Default::default()
                },
            ))
        }),
        ("embedding_max_norm_p1", |v| {
            let opts = F::EmbeddingOpts {
                max_norm: Some(0.5),
                norm_type: 1.0,
                ..Default::default()
            };
            one(F::embedding(v.t("i"), v.t("w"), opts))
        }),
        ("err_embedding_index", |v| {
            one(F::embedding(v.t("i"), v.t("w"), Default::default()))
        }),
        ("err_embedding_padding_idx", |v| {
            one(F::embedding(
                v.t("i"),
                v.t("w"),
                F::EmbeddingOpts {
                    padding_idx: Some(6),
                    ..Default::default()
                },
            ))
        }),
        ("one_hot_infer", |v| one(F::one_hot(v.t("i"), Default::default()))),
        ("one_hot_classes", |v| {
            one(F::one_hot(v.t("i"), F::OneHotOpts { num_classes: 5 }))
        }),
        ("err_one_hot_too_large", |v| {
            one(F::one_hot(v.t("i"), F::OneHotOpts { num_classes: 5 }))
        }),
    ]
}

fn pad_cases() -> Vec<(&'static str, Case)> {
    use F::PadMode::{Circular, Reflect, Replicate};
    vec![
        ("pad_constant", |v| {
            one(F::pad(v.t("x"), &[1, 2, 0, 1], Default::default()))
        }),
        ("pad_constant_value_crop", |v| {
            one(F::pad(
                v.t("x"),
                &[-1, 2],
                F::PadOpts {
                    value: Some(1.5),
                    ..Default::default()
                },
            ))
        }),
        ("pad_reflect_1d", |v| {
            one(F::pad(
                v.t("x"),
                &[2, 3],
                F::PadOpts {
                    mode: Reflect,
                    value: None,
                },
            ))
        }),
        ("pad_reflect_2d", |v| {
            one(F::pad(
                v.t("x"),
                &[1, 2, 3, 0],
                F::PadOpts {
                    mode: Reflect,
                    value: None,
                },
            ))
        }),
        ("pad_replicate_1d", |v| {
            one(F::pad(
                v.t("x"),
                &[3, 1],
                F::PadOpts {
                    mode: Replicate,
                    value: None,
                },
            ))
        }),
        ("pad_replicate_2d", |v| {
            one(F::pad(
                v.t("x"),
                &[2, 1, 1, 2],
                F::PadOpts {
                    mode: Replicate,
                    value: None,
                },
            ))
        }),
        ("pad_circular_1d", |v| {
            one(F::pad(
                v.t("x"),
                &[2, 3],
                F::PadOpts {
                    mode: Circular,
                    value: None,
                },
            ))
        }),
        ("pad_circular_2d", |v| {
            one(F::pad(
                v.t("x"),
                &[1, 2, 2, 1],
                F::PadOpts {
                    mode: Circular,
                    value: None,
                },
            ))
        }),
        ("err_pad_reflect_too_large", |v| {
            one(F::pad(
                v.t("x"),
                &[4, 1],
                F::PadOpts {
                    mode: Reflect,
                    value: None,
                },
            ))
        }),
        ("err_pad_odd_length", |v| {
            one(F::pad(v.t("x"), &[1, 2, 3], Default::default()))
        }),
    ]
}

fn vision_cases() -> Vec<(&'static str, Case)> {
    use F::InterpolateMode::Bilinear;
    vec![
        ("interpolate_nearest_size", |v| {
            one(F::interpolate(
                v.t("x"),
                F::InterpolateOpts {
                    size: Some([5, 7]),
                    ..Default::default()
                },
            ))
        }),
        ("interpolate_nearest_scale", |v| {
            one(F::interpolate(
                v.t("x"),
                F::InterpolateOpts {
                    scale_factor: Some([1.7, 2.5]),
                    ..Default::default()
                },
            ))
        }),
        ("interpolate_bilinear_size", |v| {
            let opts = F::InterpolateOpts {
                size: Some([5, 3]),
                mode: Bilinear,
                ..Default::default()
            };
            one(F::interpolate(v.t("x"), opts))
        }),
        ("interpolate_bilinear_align_corners", |v| {
            let opts = F::InterpolateOpts {
                scale_factor: Some([2.0, 1.5]),
                mode: Bilinear,
                align_corners: Some(true),
                ..Default::default()
            };
            one(F::interpolate(v.t("x"), opts))
        }),
        ("interpolate_bilinear_recompute", |v| {
            let opts = F::InterpolateOpts {
                scale_factor: Some([1.7, 2.5]),
                mode: Bilinear,
                recompute_scale_factor: Some(true),
                ..Default::default()
            };
            one(F::interpolate(v.t("x"), opts))
        }),
        ("err_interpolate_both", |v| {
            let opts = F::InterpolateOpts {
                size: Some([2, 2]),
                scale_factor: Some([2.0, 2.0]),
                ..Default::default()
            };
            one(F::interpolate(v.t("x"), opts))
        }),
        ("err_interpolate_neither", |v| {
            one(F::interpolate(v.t("x"), Default::default()))
        }),
        ("err_interpolate_nearest_align_corners", |v| {
            let opts = F::InterpolateOpts {
                size: Some([2, 2]),
                align_corners: Some(true),
                ..Default::default()
            };
            one(F::interpolate(v.t("x"), opts))
        }),
        ("pixel_shuffle_2", |v| one(F::pixel_shuffle(v.t("x"), 2))),
        ("pixel_unshuffle_3", |v| one(F::pixel_unshuffle(v.t("x"), 3))),
        ("err_pixel_shuffle_channels", |v| one(F::pixel_shuffle(v.t("x"), 2))),
        ("unfold_default", |v| {
            one(F::unfold(v.t("x"), [2, 3], Default::default()))
        }),
        ("unfold_options", |v| {
            let opts = F::FoldOpts {
                dilation: [2, 2],
                padding: [1, 1],
                stride: [2, 1],
            };
            one(F::unfold(v.t("x"), [2, 2], opts))
        }),
        ("fold_default", |v| {
            one(F::fold(v.t("x"), [3, 4], [2, 2], Default::default()))
        }),
        ("fold_options", |v| {
            let opts = F::FoldOpts {
                dilation: [1, 2],
                padding: [1, 0],
                stride: [2, 1],
            };
            one(F::fold(v.t("x"), [4, 5], [2, 2], opts))
        }),
    ]
}

fn attention_cases() -> Vec<(&'static str, Case)> {
    fn sdpa(v: &In, opts: F::ScaledDotProductAttentionOpts) -> Result<Vec<Tensor>> {
        one(F::scaled_dot_product_attention(v.t("q"), v.t("k"), v.t("v"), opts))
    }
    vec![
        ("sdpa_plain", |v| sdpa(v, Default::default())),
        ("sdpa_bool_mask", |v| {
            sdpa(
                v,
                F::ScaledDotProductAttentionOpts {
                    attn_mask: Some(v.t("m")),
                    ..Default::default()
                },
            )
        }),
        ("sdpa_float_mask_scale", |v| {
            let opts = F::ScaledDotProductAttentionOpts {
                attn_mask: Some(v.t("m")),
                scale: Some(0.3),
                ..Default::default()
            };
            sdpa(v, opts)
        }),
        ("sdpa_causal", |v| {
            sdpa(
                v,
                F::ScaledDotProductAttentionOpts {
                    is_causal: true,
                    ..Default::default()
                },
            )
        }),
        ("sdpa_gqa", |v| {
            sdpa(
                v,
                F::ScaledDotProductAttentionOpts {
                    enable_gqa: true,
                    ..Default::default()
                },
            )
        }),
        ("sdpa_dropout_seeded", |v| {
            sdpa(
                v,
                F::ScaledDotProductAttentionOpts {
                    dropout_p: 0.4,
                    ..Default::default()
                },
            )
        }),
        ("sdpa_dropout_causal_f32_seeded", |v| {
            sdpa(
                v,
                F::ScaledDotProductAttentionOpts {
                    dropout_p: 0.25,
                    is_causal: true,
                    ..Default::default()
                },
            )
        }),
        ("sdpa_dropout_zero_f32", |v| {
            sdpa(
                v,
                F::ScaledDotProductAttentionOpts {
                    dropout_p: 0.0,
                    ..Default::default()
                },
            )
        }),
        ("err_sdpa_mask_and_causal", |v| {
            let opts = F::ScaledDotProductAttentionOpts {
                attn_mask: Some(v.t("m")),
                is_causal: true,
                ..Default::default()
            };
            sdpa(v, opts)
        }),
    ]
}

fn distance_cases() -> Vec<(&'static str, Case)> {
    vec![
        ("bilinear_bias", |v| {
            one(F::bilinear(
                v.t("a"),
                v.t("b"),
                v.t("w"),
                F::BilinearOpts { bias: Some(v.t("c")) },
            ))
        }),
        ("bilinear_batched", |v| {
            one(F::bilinear(v.t("a"), v.t("b"), v.t("w"), Default::default()))
        }),
        ("err_bilinear_size", |v| {
            one(F::bilinear(v.t("a"), v.t("b"), v.t("w"), Default::default()))
        }),
        ("cosine_similarity_default", |v| {
            one(F::cosine_similarity(v.t("a"), v.t("b"), Default::default()))
        }),
        ("cosine_similarity_dim_eps_broadcast", |v| {
            one(F::cosine_similarity(
                v.t("a"),
                v.t("b"),
                F::CosineSimilarityOpts { dim: -2, eps: 1e-3 },
            ))
        }),
        ("pairwise_distance_default", |v| {
            one(F::pairwise_distance(v.t("a"), v.t("b"), Default::default()))
        }),
        ("pairwise_distance_options", |v| {
            let opts = F::PairwiseDistanceOpts {
                p: 1.5,
                eps: 0.1,
                keepdim: true,
            };
            one(F::pairwise_distance(v.t("a"), v.t("b"), opts))
        }),
        ("normalize_default", |v| one(F::normalize(v.t("x"), Default::default()))),
        ("normalize_options", |v| {
            one(F::normalize(
                v.t("x"),
                F::NormalizeOpts {
                    p: 1.0,
                    dim: -1,
                    eps: 0.5,
                },
            ))
        }),
        ("normalize_zero_row", |v| {
            one(F::normalize(
                v.t("x"),
                F::NormalizeOpts {
                    dim: 0,
                    ..Default::default()
                },
            ))
        }),
    ]
}

/// Tensors named `names`, in order (an RNN's flat parameter list).
fn list(v: &In, names: &[&str]) -> Vec<Tensor> {
    names.iter().map(|n| v.t(n).clone()).collect()
}

/// Three outputs (output, h_n, c_n).
fn three(r: Result<(Tensor, Tensor, Tensor)>) -> Result<Vec<Tensor>> {
    r.map(|(a, b, c)| vec![a, b, c])
}

fn recurrent_cases() -> Vec<(&'static str, Case)> {
    use frankentorch::composite_rnn as rnn;
    fn lstm_one_layer(v: &In) -> Result<Vec<Tensor>> {
        let hx = list(v, &["h0", "c0"]);
        let params = list(v, &["wi", "wh", "bi", "bh"]);
        three(rnn::lstm_input(
            v.t("x"),
            &hx,
            &params,
            true,
            1,
            0.0,
            false,
            false,
            false,
        ))
    }
    fn lstm_two_layers(v: &In, train: bool) -> Result<Vec<Tensor>> {
        let hx = list(v, &["h0", "c0"]);
        let params = list(v, &["a0", "b0", "c0_", "d0", "a1", "b1", "c1", "d1"]);
        three(rnn::lstm_input(
            v.t("x"),
            &hx,
            &params,
            true,
            2,
            0.4,
            train,
            false,
            false,
        ))
    }
    fn cell_params(v: &In, bias: bool) -> (Option<&Tensor>, Option<&Tensor>) {
        if bias {
            (Some(v.t("bi")), Some(v.t("bh")))
        } else {
            (None, None)
        }
    }
    vec![
        ("lstm_one_layer", lstm_one_layer),
        ("lstm_f32", lstm_one_layer),
        ("lstm_bidirectional_two_layers_batch_first", |v| {
            let hx = list(v, &["h0", "c0"]);
            let params = list(v, &["a0", "b0", "a1", "b1", "a2", "b2", "a3", "b3"]);
            three(rnn::lstm_input(
                v.t("x"),
                &hx,
                &params,
                false,
                2,
                0.0,
                false,
                true,
                true,
            ))
        }),
        ("lstm_projection", |v| {
            let hx = list(v, &["h0", "c0"]);
            let params = list(v, &["wi", "wh", "bi", "bh", "wr"]);
            three(rnn::lstm_input(
                v.t("x"),
                &hx,
                &params,
                true,
                1,
                0.0,
                false,
                false,
                false,
            ))
        }),
        ("lstm_dropout_between_layers", |v| lstm_two_layers(v, true)),
        ("lstm_dropout_eval", |v| lstm_two_layers(v, false)),
        ("gru_two_layers", |v| {
            let params = list(v, &["a0", "b0", "c0", "d0", "a1", "b1", "c1", "d1"]);
            two(rnn::gru_input(
                v.t("x"),
                v.t("h0"),
                &params,
                true,
                2,
                0.0,
                false,
                false,
                false,
            ))
        }),
        ("gru_bidirectional_batch_first", |v| {
            let params = list(v, &["a0", "b0", "a1", "b1"]);
            two(rnn::gru_input(
                v.t("x"),
                v.t("h0"),
                &params,
                false,
                1,
                0.0,
                false,
                true,
                true,
            ))
        }),
        ("rnn_tanh_bias", |v| {
            let params = list(v, &["wi", "wh", "bi", "bh"]);
            two(rnn::rnn_tanh_input(
                v.t("x"),
                v.t("h0"),
                &params,
                true,
                1,
                0.0,
                false,
                false,
                false,
            ))
        }),
        ("rnn_relu_bidirectional", |v| {
            let params = list(v, &["a0", "b0", "a1", "b1"]);
            two(rnn::rnn_relu_input(
                v.t("x"),
                v.t("h0"),
                &params,
                false,
                1,
                0.0,
                false,
                true,
                false,
            ))
        }),
        ("lstm_cell_bias", |v| {
            let (bi, bh) = cell_params(v, true);
            two(rnn::lstm_cell(
                v.t("x"),
                &list(v, &["h", "c"]),
                v.t("wi"),
                v.t("wh"),
                bi,
                bh,
            ))
        }),
        ("err_lstm_cell_input_size", |v| {
            let (bi, bh) = cell_params(v, true);
            two(rnn::lstm_cell(
                v.t("x"),
                &list(v, &["h", "c"]),
                v.t("wi"),
                v.t("wh"),
                bi,
                bh,
            ))
        }),
        ("lstm_cell_no_bias", |v| {
            two(rnn::lstm_cell(
                v.t("x"),
                &list(v, &["h", "c"]),
                v.t("wi"),
                v.t("wh"),
                None,
                None,
            ))
        }),
        ("gru_cell_bias", |v| {
            let (bi, bh) = cell_params(v, true);
            one(rnn::gru_cell(v.t("x"), v.t("h"), v.t("wi"), v.t("wh"), bi, bh))
        }),
        ("rnn_tanh_cell_bias", |v| {
            let (bi, bh) = cell_params(v, true);
            one(rnn::rnn_tanh_cell(v.t("x"), v.t("h"), v.t("wi"), v.t("wh"), bi, bh))
        }),
        ("rnn_relu_cell_no_bias", |v| {
            one(rnn::rnn_relu_cell(v.t("x"), v.t("h"), v.t("wi"), v.t("wh"), None, None))
        }),
        ("err_lstm_one_hidden_state", |v| {
            let params = list(v, &["wi", "wh", "bi", "bh"]);
            three(rnn::lstm_input(
                v.t("x"),
                &list(v, &["h0"]),
                &params,
                true,
                1,
                0.0,
                false,
                false,
                false,
            ))
        }),
        ("err_lstm_param_count", |v| {
            let params = list(v, &["wi", "wh", "bi"]);
            three(rnn::lstm_input(
                v.t("x"),
                &list(v, &["h0", "c0"]),
                &params,
                true,
                1,
                0.0,
                false,
                false,
                false,
            ))
        }),
    ]
}

/// The attention output, then the weights when returned.
fn out_and_weights(r: Result<(Tensor, Option<Tensor>)>) -> Result<Vec<Tensor>> {
    r.map(|(out, w)| std::iter::once(out).chain(w).collect())
}

fn multi_head_attention_cases() -> Vec<(&'static str, Case)> {
    type Opts<'a> = F::MultiHeadAttentionForwardOpts<'a>;
    /// Self-attention (query, key and value are one tensor) with the packed
    /// weights of `MHA` in the script.
    fn self_attention(v: &In, bias_kv: bool, dropout_p: f64, opts: Opts) -> Result<Vec<Tensor>> {
        let q = v.t("q");
        let (bk, bv) = if bias_kv {
            (Some(v.t("bk")), Some(v.t("bv")))
        } else {
            (None, None)
        };
        out_and_weights(F::multi_head_attention_forward(
            q,
            q,
            q,
            4,
            2,
            Some(v.t("w")),
            Some(v.t("b")),
            bk,
            bv,
            bias_kv,
            dropout_p,
            v.t("wo"),
            Some(v.t("bo")),
            opts,
        ))
    }
    fn encoder_decoder(v: &In, need_weights: bool) -> Result<Vec<Tensor>> {
        let opts = Opts {
            key_padding_mask: Some(v.t("kpm")),
            attn_mask: Some(v.t("am")),
            need_weights,
            ..Default::default()
        };
        let kv = v.t("kv");
        out_and_weights(F::multi_head_attention_forward(
            v.t("q"),
            kv,
            kv,
            4,
            2,
            Some(v.t("w")),
            Some(v.t("b")),
            None,
            None,
            false,
            0.0,
            v.t("wo"),
            Some(v.t("bo")),
            opts,
        ))
    }
    fn no_weights<'a>() -> Opts<'a> {
        Opts {
            need_weights: false,
            ..Default::default()
        }
    }
    vec![
        ("mha_self_attention_weights", |v| {
            self_attention(v, false, 0.0, Opts::default())
        }),
        ("mha_self_attention_sdpa", |v| {
            self_attention(
                v,
                false,
                0.0,
                Opts {
                    need_weights: false,
                    ..Default::default()
                },
            )
        }),
        ("mha_encoder_decoder_masks", |v| encoder_decoder(v, true)),
        ("mha_encoder_decoder_masks_sdpa", |v| encoder_decoder(v, false)),
        ("mha_separate_projections", |v| {
            let opts = Opts {
                use_separate_proj_weight: true,
                q_proj_weight: Some(v.t("wq")),
                k_proj_weight: Some(v.t("wk")),
                v_proj_weight: Some(v.t("wv")),
                ..Default::default()
            };
            out_and_weights(F::multi_head_attention_forward(
                v.t("q"),
                v.t("k"),
                v.t("v"),
                4,
                2,
                None,
                Some(v.t("b")),
                None,
                None,
                false,
                0.0,
                v.t("wo"),
                None,
                opts,
            ))
        }),
        ("mha_bias_kv_zero_attn_per_head", |v| {
            let opts = Opts {
                attn_mask: Some(v.t("am")),
                average_attn_weights: false,
                ..Default::default()
            };
            self_attention(v, true, 0.0, opts)
        }),
        ("mha_unbatched_padding", |v| {
            self_attention(
                v,
                false,
                0.0,
                Opts {
                    key_padding_mask: Some(v.t("kpm")),
                    ..Default::default()
                },
            )
        }),
        ("mha_dropout_weights", |v| {
            self_attention(v, false, 0.3, Opts::default())
        }),
        ("mha_dropout_sdpa", |v| self_attention(v, false, 0.3, no_weights())),
        ("mha_eval_ignores_dropout", |v| {
            self_attention(
                v,
                false,
                0.5,
                Opts {
                    training: false,
                    ..Default::default()
                },
            )
        }),
        ("mha_is_causal_sdpa", |v| {
            let opts = Opts {
                attn_mask: Some(v.t("am")),
                is_causal: true,
                ..no_weights()
            };
            self_attention(v, false, 0.0, opts)
        }),
        ("mha_is_causal_with_weights", |v| {
            let opts = Opts {
                attn_mask: Some(v.t("am")),
                is_causal: true,
                ..Default::default()
            };
            self_attention(v, false, 0.0, opts)
        }),
        ("err_mha_embed_dim", |v| {
            let q = v.t("q");
            out_and_weights(F::multi_head_attention_forward(
                q,
                q,
                q,
                5,
                2,
                Some(v.t("w")),
                Some(v.t("b")),
                None,
                None,
                false,
                0.0,
                v.t("wo"),
                Some(v.t("bo")),
                Opts::default(),
            ))
        }),
        ("err_mha_causal_without_mask", |v| {
            self_attention(
                v,
                false,
                0.0,
                Opts {
                    is_causal: true,
                    ..Default::default()
                },
            )
        }),
        ("err_mha_attn_mask_shape", |v| {
            self_attention(
                v,
                false,
                0.0,
                Opts {
                    attn_mask: Some(v.t("am")),
                    ..Default::default()
                },
            )
        }),
        ("err_mha_query_rank", |v| self_attention(v, false, 0.0, Opts::default())),
        ("err_mha_int_mask", |v| {
            self_attention(
                v,
                false,
                0.0,
                Opts {
                    attn_mask: Some(v.t("am")),
                    ..Default::default()
                },
            )
        }),
    ]
}

// ------------------------------------------------------------------ harness

/// `((arange(n) % 7) - 3)` in `out`'s shape and dtype: the upstream weights
/// of the recorded gradients.
fn loss_weights(out: &Tensor) -> Tensor {
    let n = out.numel();
    let w: Vec<f64> = (0..n).map(|j| (j % 7) as f64 - 3.0).collect();
    let flat = Tensor::from_vec(w, out.sizes()).unwrap();
    ops::_to_copy_full(&flat, Some(out.dtype()), None, None, None, false, None).unwrap()
}

fn check_case(case: &toml::Table, run: Case) {
    let name = str_of(case, "name");
    let what = format!("case {name} (Python: {})", str_of(case, "python"));
    let inputs = In(tables(case, "input")
        .into_iter()
        .map(|t| (str_of(t, "name").to_string(), build(t)))
        .collect());
    let recorded_grads = tables(case, "grad");
    for rec in &recorded_grads {
        inputs.t(str_of(rec, "name")).requires_grad_(true).unwrap();
    }
    // Seeded cases draw from the default generator: hold it for the call.
    let seed = case.get("seed").and_then(|s| s.as_integer());
    let result = match seed {
        Some(s) => {
            let _rng = frankentorch::testing::seeded(s as u64);
            run(&inputs)
        }
        None => run(&inputs),
    };
    if let Some(err) = case.get("error").and_then(|e| e.as_table()) {
        return check_error(&what, result, err);
    }
    let outs = result.unwrap_or_else(|e| panic!("{what}: PyTorch succeeded but we fail: {e}"));
    let recorded = tables(case, "output");
    assert_eq!(outs.len(), recorded.len(), "{what}: output count differs from PyTorch");
    for (k, (ours, rec)) in outs.iter().zip(&recorded).enumerate() {
        compare(&format!("{what}: output {k}"), ours, rec);
    }
    for rec in tables(case, "after") {
        let n = str_of(rec, "name");
        compare(&format!("{what}: input {n} after the call"), inputs.t(n), rec);
    }
    if !recorded_grads.is_empty() {
        let all = case.get("grad_outputs").and_then(|g| g.as_str()) == Some("all");
        let graded = if all { &outs[..] } else { &outs[..1] };
        let mut loss = ops::sum(&ops::mul(&graded[0], &loss_weights(&graded[0])).unwrap()).unwrap();
        for o in &graded[1..] {
            loss = ops::add(&loss, &ops::sum(&ops::mul(o, &loss_weights(o)).unwrap()).unwrap()).unwrap();
        }
        backward(&loss).unwrap();
        for rec in recorded_grads {
            let n = str_of(rec, "name");
            let g = inputs
                .t(n)
                .grad()
                .unwrap_or_else(|| panic!("{what}: no gradient for {n}"));
            compare(&format!("{what}: gradient of {n}"), &g, rec);
        }
    }
}

#[test]
fn nn_functional_matches_pytorch() {
    let table = fixture("nn_functional");
    let recorded = tables(&table, "case");
    let ours: HashMap<&str, Case> = cases().into_iter().collect();
    assert_eq!(
        ours.len(),
        cases().len(),
        "duplicate case names in tests/nn_functional.rs"
    );
    let names: BTreeSet<&str> = recorded.iter().map(|c| str_of(c, "name")).collect();
    let missing: Vec<&&str> = names.iter().filter(|n| !ours.contains_key(*n)).collect();
    assert!(missing.is_empty(), "fixture cases without a Rust spelling: {missing:?}");
    let extra: Vec<&&str> = ours.keys().filter(|n| !names.contains(*n)).collect();
    assert!(
        extra.is_empty(),
        "Rust cases not in the fixture (regenerate it): {extra:?}"
    );
    run_all("nn_functional", &recorded, |case| {
        check_case(case, ours[str_of(case, "name")])
    });
}
