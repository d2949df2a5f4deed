//! `nn.Dropout`, `nn.Dropout2d`, `nn.AlphaDropout`.

use crate::nn::functional as F;
use crate::nn::{Forward, Module};
use crate::{Error, Result, Tensor};

fn check_p(what: &str, p: f64) -> Result<()> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(Error::invalid(
            what,
            format!("dropout probability has to be between 0 and 1, but got {p:?}"),
        ))
    }
}

macro_rules! dropout_layer {
    ($name:ident, $fun:ident, $opts:ident, $what:literal) => {
        #[doc = concat!("`nn.", stringify!($name), "(p=0.5)`: `F.", stringify!($fun), "` while training, the identity in eval mode.")]
        ///
        /// ```
        #[doc = concat!("use frankentorch::nn::{Forward, Module, ", stringify!($name), "};")]
        /// use frankentorch::prelude::*;
        #[doc = concat!("let mut d = ", stringify!($name), "::new(0.5).unwrap();")]
        /// d.eval();
        /// let x = ops::ones(&[2, 3, 2, 2]).unwrap();
        /// assert_eq!(d.forward(&x).unwrap().to_vec::<f32>().unwrap(), vec![1.0; 24]);
        #[doc = concat!("assert!(", stringify!($name), "::new(1.5).is_err());")]
        /// ```
        #[derive(Module)]
        pub struct $name {
            /// Probability of zeroing.
            pub p: f64,
            #[training]
            training: bool,
        }

        impl $name {
            /// The layer with drop probability `p` (torch's default is 0.5).
            pub fn new(p: f64) -> Result<$name> {
                check_p($what, p)?;
                Ok($name { p, training: true })
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name { p: 0.5, training: true }
            }
        }

        impl Forward for $name {
            fn forward(&self, input: &Tensor) -> Result<Tensor> {
                F::$fun(input, F::$opts { p: self.p, training: self.training })
            }
        }
    };
}

dropout_layer!(Dropout, dropout, DropoutOpts, "nn.Dropout");
dropout_layer!(Dropout2d, dropout2d, Dropout2dOpts, "nn.Dropout2d");
dropout_layer!(AlphaDropout, alpha_dropout, AlphaDropoutOpts, "nn.AlphaDropout");
