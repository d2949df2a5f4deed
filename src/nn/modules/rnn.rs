//! `nn.RNN`, `nn.LSTM`, `nn.GRU`: multi-layer, optionally bidirectional
//! recurrent layers over the `aten::{rnn_tanh,rnn_relu,lstm,gru}.input`
//! operators, with torch's parameter names (`weight_ih_l0`,
//! `bias_hh_l1_reverse`, `weight_hr_l0`), shapes, initialisation (every
//! parameter from U(−1/√hidden, 1/√hidden) in registration order) and
//! argument checks.

use super::empty_param;
use crate::nn::{init, Module};
use crate::{ops, DType, Error, Result, Tensor};

/// The recurrence of an [`RNN`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Nonlinearity {
    /// `tanh` (torch's default).
    #[default]
    Tanh,
    /// `relu`.
    Relu,
}

/// Options of [`RNN`], [`LSTM`] and [`GRU`] (torch's defaults).
///
/// ```
/// let c = frankentorch::nn::RnnConfig::default();
/// assert_eq!((c.num_layers, c.bias, c.batch_first, c.bidirectional), (1, true, false, false));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct RnnConfig {
    /// Stacked layers (default 1).
    pub num_layers: usize,
    /// Whether the layers have `b_ih`/`b_hh` (default true).
    pub bias: bool,
    /// Inputs and outputs are `[batch, seq, feature]` (default false).
    pub batch_first: bool,
    /// Dropout on the outputs of every layer but the last, in training (default 0).
    pub dropout: f64,
    /// Whether each layer also runs backwards in time (default false).
    pub bidirectional: bool,
    /// LSTM only: project the hidden state to this size (default 0 = none).
    pub proj_size: usize,
    /// RNN only: the recurrence (default tanh).
    pub nonlinearity: Nonlinearity,
    /// The parameters' dtype (default float32).
    pub dtype: Option<DType>,
}

impl Default for RnnConfig {
    fn default() -> Self {
        RnnConfig {
            num_layers: 1,
            bias: true,
            batch_first: false,
            dropout: 0.0,
            bidirectional: false,
            proj_size: 0,
            nonlinearity: Nonlinearity::Tanh,
            dtype: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Rnn,
    Lstm,
    Gru,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Rnn => "RNN",
            Kind::Lstm => "LSTM",
            Kind::Gru => "GRU",
        }
    }
    fn gates(self) -> usize {
        match self {
            Kind::Rnn => 1,
            Kind::Lstm => 4,
            Kind::Gru => 3,
        }
    }
}

/// What the three layers share (torch's `RNNBase`).
struct RnnBase {
    kind: Kind,
    input_size: usize,
    hidden_size: usize,
    config: RnnConfig,
    /// `(name, parameter)` in registration order (torch's `_flat_weights`).
    params: Vec<(String, Tensor)>,
    training: bool,
}

impl RnnBase {
    fn new(kind: Kind, input_size: usize, hidden_size: usize, config: RnnConfig) -> Result<RnnBase> {
        let op = kind.name();
        let c = config;
        if !(0.0..=1.0).contains(&c.dropout) {
            return Err(Error::invalid(
                op,
                "dropout should be a number in range [0, 1] representing the probability of an element being zeroed",
            ));
        }
        if hidden_size == 0 {
            return Err(Error::invalid(op, "hidden_size must be greater than zero"));
        }
        if c.num_layers == 0 {
            return Err(Error::invalid(op, "num_layers must be greater than zero"));
        }
        if c.proj_size > 0 && kind != Kind::Lstm {
            return Err(Error::invalid(
                op,
                "proj_size argument is only supported for LSTM, not RNN or GRU",
            ));
        }
        if c.proj_size >= hidden_size && c.proj_size > 0 {
            return Err(Error::invalid(op, "proj_size has to be smaller than hidden_size"));
        }
        let gate_size = kind.gates() * hidden_size;
        let real_hidden = if c.proj_size > 0 { c.proj_size } else { hidden_size };
        let directions = if c.bidirectional { 2 } else { 1 };
        let mut params = vec![];
        for layer in 0..c.num_layers {
            for direction in 0..directions {
                let layer_input = if layer == 0 {
                    input_size
                } else {
                    real_hidden * directions
                };
                let suffix = if direction == 1 { "_reverse" } else { "" };
                let mut add = |name: &str, shape: &[usize]| -> Result<()> {
                    params.push((format!("{name}_l{layer}{suffix}"), empty_param(shape, c.dtype)?));
                    Ok(())
                };
                add("weight_ih", &[gate_size, layer_input])?;
                add("weight_hh", &[gate_size, real_hidden])?;
                if c.bias {
                    add("bias_ih", &[gate_size])?;
                    add("bias_hh", &[gate_size])?;
                }
                if c.proj_size > 0 {
                    add("weight_hr", &[c.proj_size, hidden_size])?;
                }
            }
        }
        let base = RnnBase {
            kind,
            input_size,
            hidden_size,
            config,
            params,
            training: true,
        };
        base.reset_parameters()?;
        Ok(base)
    }

    fn reset_parameters(&self) -> Result<()> {
        let stdv = 1.0 / (self.hidden_size as f64).sqrt();
        for (_, p) in &self.params {
            init::uniform_(p, -stdv, stdv, None)?;
        }
        Ok(())
    }

    fn directions(&self) -> usize {
        if self.config.bidirectional {
            2
        } else {
            1
        }
    }

    fn flat_weights(&self) -> Vec<Tensor> {
        self.params.iter().map(|(_, p)| p.clone()).collect()
    }

    /// torch's input checks; returns whether the input is batched and the
    /// input as 3-D.
    fn prepare_input(&self, input: &Tensor) -> Result<(bool, Tensor)> {
        let op = self.kind.name();
        if input.dim() != 2 && input.dim() != 3 {
            return Err(Error::shape(
                op,
                format!("{op}: Expected input to be 2D or 3D, got {}D instead", input.dim()),
            ));
        }
        let weight_dtype = self.params[0].1.dtype();
        if input.dtype() != weight_dtype {
            return Err(Error::dtype(
                op,
                format!(
                    "input must have the type torch.{}, got type torch.{}",
                    weight_dtype.name(),
                    input.dtype().name()
                ),
            ));
        }
        let last = input.sizes()[input.dim() - 1];
        if last != self.input_size {
            return Err(Error::shape(
                op,
                format!(
                    "input.size(-1) must be equal to input_size. Expected {}, got {last}",
                    self.input_size
                ),
            ));
        }
        let batched = input.dim() == 3;
        let input = if batched {
            input.clone()
        } else {
            ops::unsqueeze(input, self.batch_dim())?
        };
        Ok((batched, input))
    }

    fn batch_dim(&self) -> i64 {
        if self.config.batch_first {
            0
        } else {
            1
        }
    }

    /// A given hidden state checked against `[layers * dirs, batch, size]`
    /// (made 3-D first when the input is unbatched), or zeros.
    fn hidden(&self, hx: Option<&Tensor>, batched: bool, input: &Tensor, size: usize, what: &str) -> Result<Tensor> {
        let op = self.kind.name();
        let batch = input.sizes()[self.batch_dim() as usize];
        let expected = [self.config.num_layers * self.directions(), batch, size];
        let Some(h) = hx else {
            let shape: Vec<i64> = expected.iter().map(|&s| s as i64).collect();
            return ops::zeros_full(&shape, Some(input.dtype()), None, None, None);
        };
        let want = if batched { 3 } else { 2 };
        if h.dim() != want {
            let kind = if batched { "batched 3-D" } else { "unbatched 2-D" };
            return Err(Error::shape(
                op,
                format!(
                    "For {kind} input, {what} should also be {want}-D but got {}-D tensor",
                    h.dim()
                ),
            ));
        }
        let h = if batched { h.clone() } else { ops::unsqueeze(h, 1)? };
        if h.sizes() != expected {
            let label = match (self.kind, what) {
                (Kind::Lstm, "hx") => "hidden[0]",
                (Kind::Lstm, _) => "hidden[1]",
                _ => "hidden",
            };
            return Err(Error::shape(
                op,
                format!(
                    "Expected {label} size ({}, {}, {}), got {:?}",
                    expected[0],
                    expected[1],
                    expected[2],
                    h.sizes()
                ),
            ));
        }
        Ok(h)
    }

    /// Undoes the unbatched unsqueeze on an output and on hidden states.
    fn unbatch(&self, batched: bool, t: Tensor, dim: i64) -> Result<Tensor> {
        if batched {
            Ok(t)
        } else {
            ops::squeeze_dim(&t, dim)
        }
    }

    fn real_hidden(&self) -> usize {
        if self.config.proj_size > 0 {
            self.config.proj_size
        } else {
            self.hidden_size
        }
    }
}

macro_rules! rnn_module {
    ($(#[$doc:meta])* $name:ident, $kind:expr) => {
        $(#[$doc])*
        pub struct $name {
            base: RnnBase,
        }

        impl $name {
            /// The parameters in registration order with torch's names
            /// (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, …).
            pub fn named_flat_weights(&self) -> &[(String, Tensor)] {
                &self.base.params
            }

            /// The options the layer was built with.
            pub fn config(&self) -> &RnnConfig {
                &self.base.config
            }

            /// Re-draws every parameter from U(−1/√hidden, 1/√hidden).
            pub fn reset_parameters(&self) -> Result<()> {
                self.base.reset_parameters()
            }
        }

        impl Module for $name {
            fn type_name(&self) -> &str {
                self.base.kind.name()
            }
            fn training(&self) -> bool {
                self.base.training
            }
            fn set_training(&mut self, mode: bool) {
                self.base.training = mode;
            }
            fn visit_parameters<'a>(&'a self, f: &mut dyn FnMut(&str, Option<&'a Tensor>)) {
                for (name, p) in &self.base.params {
                    f(name, Some(p));
                }
            }
            fn visit_buffers<'a>(&'a self, _f: &mut dyn FnMut(&str, Option<&'a Tensor>, bool)) {}
            fn visit_children<'a>(&'a self, _f: &mut dyn FnMut(&str, &'a dyn Module)) {}
            fn visit_tensors_mut(&mut self, f: &mut dyn FnMut(&str, &mut Tensor)) {
                for (name, p) in &mut self.base.params {
                    f(name, p);
                }
            }
            fn visit_children_mut(&mut self, _f: &mut dyn FnMut(&str, &mut dyn Module)) {}
        }
    };
}

rnn_module!(
    /// `nn.RNN(input_size, hidden_size, …)`: an Elman RNN,
    /// `h' = act(W_ih x + b_ih + W_hh h + b_hh)` per layer.
    ///
    /// ```
    /// use frankentorch::nn::{RnnConfig, RNN};
    /// use frankentorch::prelude::*;
    /// let rnn = RNN::new(3, 5, RnnConfig { num_layers: 2, ..Default::default() }).unwrap();
    /// let (out, h_n) = rnn.forward(&ops::ones(&[7, 2, 3]).unwrap(), None).unwrap();
    /// assert_eq!((out.sizes(), h_n.sizes()), (&[7, 2, 5][..], &[2, 2, 5][..]));
    /// ```
    RNN,
    Kind::Rnn
);
rnn_module!(
    /// `nn.LSTM(input_size, hidden_size, …)`, with optional projections
    /// (`proj_size`).
    ///
    /// ```
    /// use frankentorch::nn::{Module, RnnConfig, LSTM};
    /// use frankentorch::prelude::*;
    /// let lstm = LSTM::new(3, 4, RnnConfig { bidirectional: true, ..Default::default() }).unwrap();
    /// assert_eq!(lstm.named_parameters()[4].0, "weight_ih_l0_reverse");
    /// let (out, (h, c)) = lstm.forward(&ops::ones(&[6, 2, 3]).unwrap(), None).unwrap();
    /// assert_eq!((out.sizes(), h.sizes(), c.sizes()), (&[6, 2, 8][..], &[2, 2, 4][..], &[2, 2, 4][..]));
    /// ```
    LSTM,
    Kind::Lstm
);
rnn_module!(
    /// `nn.GRU(input_size, hidden_size, …)`: gates `r, z, n`.
    ///
    /// ```
    /// use frankentorch::nn::{RnnConfig, GRU};
    /// use frankentorch::prelude::*;
    /// let gru = GRU::new(3, 4, RnnConfig { batch_first: true, ..Default::default() }).unwrap();
    /// let (out, h_n) = gru.forward(&ops::ones(&[2, 6, 3]).unwrap(), None).unwrap();
    /// assert_eq!((out.sizes(), h_n.sizes()), (&[2, 6, 4][..], &[1, 2, 4][..]));
    /// ```
    GRU,
    Kind::Gru
);

impl RNN {
    /// An RNN initialised as torch's.
    pub fn new(input_size: usize, hidden_size: usize, config: RnnConfig) -> Result<RNN> {
        Ok(RNN {
            base: RnnBase::new(Kind::Rnn, input_size, hidden_size, config)?,
        })
    }

    /// `forward(input, hx=None)`: `(output, h_n)`; `input` is `[T, N, I]`
    /// (`[N, T, I]` with `batch_first`) or unbatched `[T, I]`.
    pub fn forward(&self, input: &Tensor, hx: Option<&Tensor>) -> Result<(Tensor, Tensor)> {
        single_state_forward(&self.base, input, hx)
    }
}

impl GRU {
    /// A GRU initialised as torch's.
    pub fn new(input_size: usize, hidden_size: usize, config: RnnConfig) -> Result<GRU> {
        Ok(GRU {
            base: RnnBase::new(Kind::Gru, input_size, hidden_size, config)?,
        })
    }

    /// `forward(input, hx=None)`: `(output, h_n)`.
    pub fn forward(&self, input: &Tensor, hx: Option<&Tensor>) -> Result<(Tensor, Tensor)> {
        single_state_forward(&self.base, input, hx)
    }
}

/// The RNN/GRU forward: checks, zero or given `h0`, the aten op, unbatching.
fn single_state_forward(base: &RnnBase, input: &Tensor, hx: Option<&Tensor>) -> Result<(Tensor, Tensor)> {
    let (batched, x) = base.prepare_input(input)?;
    let h0 = base.hidden(hx, batched, &x, base.hidden_size, "hx")?;
    let c = base.config;
    let weights = base.flat_weights();
    let train = base.training;
    let (layers, p) = (c.num_layers as i64, c.dropout);
    let (out, h_n) = match (base.kind, c.nonlinearity) {
        (Kind::Gru, _) => ops::gru(
            &x,
            &h0,
            &weights,
            c.bias,
            layers,
            p,
            train,
            c.bidirectional,
            c.batch_first,
        )?,
        (_, Nonlinearity::Tanh) => ops::rnn_tanh(
            &x,
            &h0,
            &weights,
            c.bias,
            layers,
            p,
            train,
            c.bidirectional,
            c.batch_first,
        )?,
        (_, Nonlinearity::Relu) => ops::rnn_relu(
            &x,
            &h0,
            &weights,
            c.bias,
            layers,
            p,
            train,
            c.bidirectional,
            c.batch_first,
        )?,
    };
    Ok((
        base.unbatch(batched, out, base.batch_dim())?,
        base.unbatch(batched, h_n, 1)?,
    ))
}

impl LSTM {
    /// An LSTM initialised as torch's.
    pub fn new(input_size: usize, hidden_size: usize, config: RnnConfig) -> Result<LSTM> {
        Ok(LSTM {
            base: RnnBase::new(Kind::Lstm, input_size, hidden_size, config)?,
        })
    }

    /// `forward(input, (h0, c0)=None)`: `(output, (h_n, c_n))`.
    pub fn forward(&self, input: &Tensor, hx: Option<(&Tensor, &Tensor)>) -> Result<(Tensor, (Tensor, Tensor))> {
        let base = &self.base;
        let (batched, x) = base.prepare_input(input)?;
        let h0 = base.hidden(hx.map(|h| h.0), batched, &x, base.real_hidden(), "hx")?;
        let c0 = base.hidden(hx.map(|h| h.1), batched, &x, base.hidden_size, "cx")?;
        let c = base.config;
        let (out, h_n, c_n) = ops::lstm(
            &x,
            &[h0, c0],
            &base.flat_weights(),
            c.bias,
            c.num_layers as i64,
            c.dropout,
            base.training,
            c.bidirectional,
            c.batch_first,
        )?;
        Ok((
            base.unbatch(batched, out, base.batch_dim())?,
            (base.unbatch(batched, h_n, 1)?, base.unbatch(batched, c_n, 1)?),
        ))
    }
}
