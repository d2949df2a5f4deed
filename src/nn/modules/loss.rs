//! The loss modules: thin wrappers over the `F::` losses. Options are the
//! `F::` options structs (torch's defaults); a per-class `weight` (and
//! `pos_weight`) is a registered buffer, as in torch's `_WeightedLoss`, so it
//! appears in the state dict and follows `to_dtype`.

use crate::nn::functional as F;
use crate::nn::functional::Reduction;
use crate::nn::Module;
use crate::{Result, Tensor};

macro_rules! loss_module {
    (two: $($name:ident => $fun:ident($opts:ident)),* $(,)?) => {$(
        #[doc = concat!("`nn.", stringify!($name), "(…)`: [`F::", stringify!($fun), "`] as a module; options [`F::", stringify!($opts), "`].")]
        ///
        /// ```
        #[doc = concat!("use frankentorch::nn::", stringify!($name), ";")]
        /// use frankentorch::prelude::*;
        /// let x = Tensor::from_vec(vec![0.5f64, 1.0], &[1, 2]).unwrap();
        /// let y = Tensor::from_vec(vec![1.0f64, 1.0], &[1, 2]).unwrap();
        #[doc = concat!("assert_eq!(", stringify!($name), "::default().forward(&x, &y).unwrap().dim(), 0);")]
        /// ```
        #[derive(Module)]
        pub struct $name {
            /// The function's options.
            pub opts: F::$opts,
            #[training]
            training: bool,
        }

        impl $name {
            /// The loss with these options.
            pub fn new(opts: F::$opts) -> $name {
                $name { opts, training: true }
            }

            /// `loss(input, target)`.
            pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
                F::$fun(input, target, self.opts)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::new(Default::default())
            }
        }
    )*};
    (three: $($name:ident => $fun:ident($opts:ident; $a:ident, $b:ident, $c:ident)),* $(,)?) => {$(
        #[doc = concat!("`nn.", stringify!($name), "(…)`: [`F::", stringify!($fun), "`] as a module; options [`F::", stringify!($opts), "`].")]
        ///
        /// ```
        #[doc = concat!("use frankentorch::nn::", stringify!($name), ";")]
        /// use frankentorch::prelude::*;
        /// let a = Tensor::from_vec(vec![0.5f64, 1.0], &[1, 2]).unwrap();
        /// let b = Tensor::from_vec(vec![1.0f64, 0.0], &[1, 2]).unwrap();
        /// let y = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
        #[doc = concat!("let _ = ", stringify!($name), "::default().forward(&a, &b, &y);")]
        /// ```
        #[derive(Module)]
        pub struct $name {
            /// The function's options.
            pub opts: F::$opts,
            #[training]
            training: bool,
        }

        impl $name {
            /// The loss with these options.
            pub fn new(opts: F::$opts) -> $name {
                $name { opts, training: true }
            }

            #[doc = concat!("`loss(", stringify!($a), ", ", stringify!($b), ", ", stringify!($c), ")`.")]
            pub fn forward(&self, $a: &Tensor, $b: &Tensor, $c: &Tensor) -> Result<Tensor> {
                F::$fun($a, $b, $c, self.opts)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::new(Default::default())
            }
        }
    )*};
    (weighted: $($name:ident => $fun:ident($opts:ident)),* $(,)?) => {$(
        #[doc = concat!("`nn.", stringify!($name), "(weight=None, …)`: [`F::", stringify!($fun), "`] as a module; `weight` is a buffer")]
        #[doc = concat!("(its `opts.weight` is ignored), the other options [`F::", stringify!($opts), "`].")]
        ///
        /// ```
        #[doc = concat!("use frankentorch::nn::{Module, ", stringify!($name), "};")]
        /// use frankentorch::prelude::*;
        /// let w = Tensor::from_vec(vec![1.0f64, 2.0], &[2]).unwrap();
        #[doc = concat!("let loss = ", stringify!($name), "::new(Some(w), Default::default());")]
        /// assert_eq!(loss.state_dict().keys(), ["weight"]);
        /// ```
        #[derive(Module)]
        pub struct $name {
            /// The rescaling weight, or `None`.
            #[buffer]
            pub weight: Option<Tensor>,
            /// The other options.
            pub opts: F::$opts<'static>,
            #[training]
            training: bool,
        }

        impl $name {
            /// The loss with a `weight` buffer and options.
            pub fn new(weight: Option<Tensor>, opts: F::$opts<'static>) -> $name {
                $name { weight, opts, training: true }
            }

            /// `loss(input, target)`.
            pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
                F::$fun(input, target, F::$opts { weight: self.weight.as_ref(), ..self.opts })
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::new(None, Default::default())
            }
        }
    )*};
}

loss_module!(two:
    SmoothL1Loss => smooth_l1_loss(SmoothL1LossOpts),
    KLDivLoss => kl_div(KlDivOpts),
    HingeEmbeddingLoss => hinge_embedding_loss(HingeEmbeddingLossOpts),
    PoissonNLLLoss => poisson_nll_loss(PoissonNllLossOpts),
);

loss_module!(three:
    MarginRankingLoss => margin_ranking_loss(MarginRankingLossOpts; input1, input2, target),
    CosineEmbeddingLoss => cosine_embedding_loss(CosineEmbeddingLossOpts; input1, input2, target),
    TripletMarginLoss => triplet_margin_loss(TripletMarginLossOpts; anchor, positive, negative),
);

loss_module!(weighted:
    CrossEntropyLoss => cross_entropy(CrossEntropyOpts),
    NLLLoss => nll_loss(NllLossOpts),
    BCELoss => binary_cross_entropy(BinaryCrossEntropyOpts),
);

macro_rules! reduction_loss {
    ($($name:ident => $fun:ident),* $(,)?) => {$(
        #[doc = concat!("`nn.", stringify!($name), "(reduction='mean')`: [`F::", stringify!($fun), "`] as a module.")]
        ///
        /// ```
        #[doc = concat!("use frankentorch::nn::", stringify!($name), ";")]
        /// use frankentorch::prelude::*;
        /// let x = Tensor::from_vec(vec![0.0f64, 2.0], &[2]).unwrap();
        /// let y = Tensor::from_vec(vec![0.0f64, 0.0], &[2]).unwrap();
        #[doc = concat!("assert!(", stringify!($name), "::default().forward(&x, &y).unwrap().to_vec::<f64>().unwrap()[0] > 0.0);")]
        /// ```
        #[derive(Module)]
        pub struct $name {
            /// How the elementwise losses are reduced.
            pub reduction: Reduction,
            #[training]
            training: bool,
        }

        impl $name {
            /// The loss with this reduction.
            pub fn new(reduction: Reduction) -> $name {
                $name { reduction, training: true }
            }

            /// `loss(input, target)`.
            pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
                F::$fun(input, target, F::MseLossOpts { reduction: self.reduction, weight: None })
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::new(Reduction::Mean)
            }
        }
    )*};
}

reduction_loss!(MSELoss => mse_loss, L1Loss => l1_loss);

/// `nn.HuberLoss(reduction='mean', delta=1.0)`: [`F::huber_loss`] as a module.
///
/// ```
/// use frankentorch::nn::HuberLoss;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.0f64, 3.0], &[2]).unwrap();
/// let y = Tensor::from_vec(vec![0.0f64, 0.0], &[2]).unwrap();
/// assert_eq!(HuberLoss::default().forward(&x, &y).unwrap().to_vec::<f64>().unwrap(), vec![1.25]);
/// ```
#[derive(Module)]
pub struct HuberLoss {
    /// How the elementwise losses are reduced.
    pub reduction: Reduction,
    /// Where the loss turns from quadratic to linear.
    pub delta: f64,
    #[training]
    training: bool,
}

impl HuberLoss {
    /// The loss.
    pub fn new(reduction: Reduction, delta: f64) -> HuberLoss {
        HuberLoss {
            reduction,
            delta,
            training: true,
        }
    }

    /// `loss(input, target)`.
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        F::huber_loss(
            input,
            target,
            F::HuberLossOpts {
                reduction: self.reduction,
                delta: self.delta,
                weight: None,
            },
        )
    }
}

impl Default for HuberLoss {
    fn default() -> Self {
        HuberLoss::new(Reduction::Mean, 1.0)
    }
}

/// `nn.BCEWithLogitsLoss(weight=None, reduction='mean', pos_weight=None)`;
/// `weight` and `pos_weight` are buffers, in that order.
///
/// ```
/// use frankentorch::nn::BCEWithLogitsLoss;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.0f64], &[1]).unwrap();
/// let l = BCEWithLogitsLoss::default().forward(&x, &x).unwrap().to_vec::<f64>().unwrap()[0];
/// assert!((l - 2f64.ln()).abs() < 1e-12);
/// ```
#[derive(Module)]
pub struct BCEWithLogitsLoss {
    /// Elementwise rescaling weight, or `None`.
    #[buffer]
    pub weight: Option<Tensor>,
    /// Weight of positive examples, or `None`.
    #[buffer]
    pub pos_weight: Option<Tensor>,
    /// How the elementwise losses are reduced.
    pub reduction: Reduction,
    #[training]
    training: bool,
}

impl BCEWithLogitsLoss {
    /// The loss.
    pub fn new(weight: Option<Tensor>, reduction: Reduction, pos_weight: Option<Tensor>) -> BCEWithLogitsLoss {
        BCEWithLogitsLoss {
            weight,
            pos_weight,
            reduction,
            training: true,
        }
    }

    /// `loss(input, target)`.
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        F::binary_cross_entropy_with_logits(
            input,
            target,
            F::BinaryCrossEntropyWithLogitsOpts {
                weight: self.weight.as_ref(),
                reduction: self.reduction,
                pos_weight: self.pos_weight.as_ref(),
            },
        )
    }
}

impl Default for BCEWithLogitsLoss {
    fn default() -> Self {
        BCEWithLogitsLoss::new(None, Reduction::Mean, None)
    }
}

/// `nn.GaussianNLLLoss(full=False, eps=1e-6, reduction='mean')`.
///
/// ```
/// use frankentorch::nn::GaussianNLLLoss;
/// use frankentorch::prelude::*;
/// let x = Tensor::from_vec(vec![0.0f64], &[1]).unwrap();
/// let v = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
/// assert_eq!(GaussianNLLLoss::default().forward(&x, &x, &v).unwrap().to_vec::<f64>().unwrap(), vec![0.0]);
/// ```
#[derive(Module)]
pub struct GaussianNLLLoss {
    /// The function's options.
    pub opts: F::GaussianNllLossOpts,
    #[training]
    training: bool,
}

impl GaussianNLLLoss {
    /// The loss with these options.
    pub fn new(opts: F::GaussianNllLossOpts) -> GaussianNLLLoss {
        GaussianNLLLoss { opts, training: true }
    }

    /// `loss(input, target, var)`.
    pub fn forward(&self, input: &Tensor, target: &Tensor, var: &Tensor) -> Result<Tensor> {
        F::gaussian_nll_loss(input, target, F::Var::Tensor(var), self.opts)
    }
}

impl Default for GaussianNLLLoss {
    fn default() -> Self {
        GaussianNLLLoss::new(Default::default())
    }
}

/// `nn.CTCLoss(blank=0, reduction='mean', zero_infinity=False)`.
///
/// ```
/// use frankentorch::nn::CTCLoss;
/// use frankentorch::prelude::*;
/// let lp = Tensor::from_vec(vec![0.5f64.ln(), 0.5f64.ln()], &[1, 1, 2]).unwrap();
/// let tg = Tensor::from_vec(vec![1i64], &[1, 1]).unwrap();
/// let one = Tensor::from_vec(vec![1i64], &[1]).unwrap();
/// let l = CTCLoss::default().forward(&lp, &tg, &one, &one).unwrap().to_vec::<f64>().unwrap()[0];
/// assert!((l - 2f64.ln()).abs() < 1e-12);
/// ```
#[derive(Module)]
pub struct CTCLoss {
    /// The function's options.
    pub opts: F::CtcLossOpts,
    #[training]
    training: bool,
}

impl CTCLoss {
    /// The loss with these options.
    pub fn new(opts: F::CtcLossOpts) -> CTCLoss {
        CTCLoss { opts, training: true }
    }

    /// `loss(log_probs, targets, input_lengths, target_lengths)`.
    pub fn forward(
        &self,
        log_probs: &Tensor,
        targets: &Tensor,
        input_lengths: &Tensor,
        target_lengths: &Tensor,
    ) -> Result<Tensor> {
        F::ctc_loss(log_probs, targets, input_lengths, target_lengths, self.opts)
    }
}

impl Default for CTCLoss {
    fn default() -> Self {
        CTCLoss::new(Default::default())
    }
}
