//! PyTorch's recurrent operators, composed of ordinary operators as ATen
//! composes them on CPU (so autograd flows through them): the cells
//! `lstm_cell`, `gru_cell`, `rnn_tanh_cell`, `rnn_relu_cell`, and the
//! multi-layer, optionally bidirectional sequence operators `lstm.input`,
//! `gru.input`, `rnn_tanh.input` and `rnn_relu.input` that `nn.LSTM`,
//! `nn.GRU` and `nn.RNN` call.
//!
//! Gate math (PyTorch's order of operations, gates chunked along dim 1):
//! - LSTM, gates `i, f, g, o`: `gates = W_hh h + b_hh + (W_ih x + b_ih)`,
//!   `c' = σ(f) c + σ(i) tanh(g)`, `h' = σ(o) tanh(c')`, then `h' W_hrᵀ`
//!   when the layer has a projection.
//! - GRU, gates `r, z, n`: `r = σ(hr + ir)`, `z = σ(hz + iz)`,
//!   `n = tanh(in + hn r)`, `h' = (h - n) z + n`.
//! - Elman RNN: `h' = act(W_hh h + b_hh + (W_ih x + b_ih))`.
//!
//! A sequence layer applies the input projection to the whole sequence at
//! once (PyTorch does so on CPU), then steps through time; the reverse
//! direction of a bidirectional layer walks the steps backwards and its
//! outputs are put back in time order before the two directions are
//! concatenated on the feature dim. Between layers, dropout with
//! probability `dropout` applies when `train`.

use crate::composite::renamed;
use crate::ops;
use crate::{Error, Result, Tensor};

/// The recurrence a layer computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CellKind {
    Lstm,
    Gru,
    Tanh,
    Relu,
}

impl CellKind {
    fn op(self) -> &'static str {
        match self {
            CellKind::Lstm => "aten::lstm",
            CellKind::Gru => "aten::gru",
            CellKind::Tanh => "aten::rnn_tanh",
            CellKind::Relu => "aten::rnn_relu",
        }
    }
}

/// One direction of one layer: `W_ih`, `W_hh`, the optional biases and
/// the optional LSTM projection `W_hr`.
struct CellParams<'a> {
    w_ih: &'a Tensor,
    w_hh: &'a Tensor,
    b_ih: Option<&'a Tensor>,
    b_hh: Option<&'a Tensor>,
    w_hr: Option<&'a Tensor>,
}

/// The hidden state carried between steps (`c` only for LSTM).
#[derive(Clone)]
struct Hidden {
    h: Tensor,
    c: Option<Tensor>,
}

/// One time step given the already projected input `x_w = W_ih x + b_ih`.
fn step(kind: CellKind, x_w: &Tensor, state: &Hidden, p: &CellParams) -> Result<Hidden> {
    let hidden_proj = ops::linear(&state.h, p.w_hh, p.b_hh)?;
    match kind {
        CellKind::Lstm => {
            let c = state
                .c
                .as_ref()
                .ok_or_else(|| Error::invalid("aten::lstm", "lstm expects two hidden states"))?;
            let gates = ops::add(&hidden_proj, x_w)?;
            let g = ops::chunk(&gates, 4, 1)?;
            let in_gate = ops::sigmoid(&g[0])?;
            let forget_gate = ops::sigmoid(&g[1])?;
            let cell_gate = ops::tanh(&g[2])?;
            let out_gate = ops::sigmoid(&g[3])?;
            let cy = ops::add(&ops::mul(&forget_gate, c)?, &ops::mul(&in_gate, &cell_gate)?)?;
            let mut hy = ops::mul(&out_gate, &ops::tanh(&cy)?)?;
            if let Some(w_hr) = p.w_hr {
                hy = ops::matmul(&hy, &ops::t(w_hr)?)?;
            }
            Ok(Hidden { h: hy, c: Some(cy) })
        }
        CellKind::Gru => {
            let ig = ops::chunk(x_w, 3, 1)?;
            let hg = ops::chunk(&hidden_proj, 3, 1)?;
            let reset = ops::sigmoid(&ops::add(&hg[0], &ig[0])?)?;
            let update = ops::sigmoid(&ops::add(&hg[1], &ig[1])?)?;
            let new = ops::tanh(&ops::add(&ig[2], &ops::mul(&hg[2], &reset)?)?)?;
            let h = ops::add(&ops::mul(&ops::sub(&state.h, &new)?, &update)?, &new)?;
            Ok(Hidden { h, c: None })
        }
        CellKind::Tanh => Ok(Hidden {
            h: ops::tanh(&ops::add(&hidden_proj, x_w)?)?,
            c: None,
        }),
        CellKind::Relu => Ok(Hidden {
            h: ops::relu(&ops::add(&hidden_proj, x_w)?)?,
            c: None,
        }),
    }
}

/// Runs one direction of one layer over `input` (`[T, B, I]`): the outputs
/// in time order stacked to `[T, B, H]`, and the final state.
fn run_direction(
    kind: CellKind,
    input: &Tensor,
    state: Hidden,
    p: &CellParams,
    reverse: bool,
) -> Result<(Tensor, Hidden)> {
    let steps = ops::unbind(&ops::linear(input, p.w_ih, p.b_ih)?, 0)?;
    let mut outputs = Vec::with_capacity(steps.len());
    let mut state = state;
    let order: Vec<usize> = if reverse {
        (0..steps.len()).rev().collect()
    } else {
        (0..steps.len()).collect()
    };
    for t in order {
        state = step(kind, &steps[t], &state, p)?;
        outputs.push(state.h.clone());
    }
    if reverse {
        outputs.reverse();
    }
    Ok((ops::stack(&outputs, 0)?, state))
}

/// The options shared by the sequence operators.
#[derive(Clone, Copy)]
struct SeqOptions {
    has_biases: bool,
    num_layers: i64,
    dropout: f64,
    train: bool,
    bidirectional: bool,
    batch_first: bool,
}

/// Splits the flat parameter list into per-(layer, direction) cells, in
/// PyTorch's order: layer 0 forward, layer 0 reverse, layer 1 forward, …
fn gather_params<'a>(
    op: &'static str,
    params: &'a [Tensor],
    opts: SeqOptions,
    has_projections: bool,
) -> Result<Vec<CellParams<'a>>> {
    let per_cell = 2 + if opts.has_biases { 2 } else { 0 } + usize::from(has_projections);
    let cells = opts.num_layers as usize * if opts.bidirectional { 2 } else { 1 };
    if params.len() != per_cell * cells {
        return Err(Error::invalid(
            op,
            format!(
                "got an incorrect number of RNN parameters: expected {} ({cells} cells of {per_cell}), got {}",
                per_cell * cells,
                params.len()
            ),
        ));
    }
    Ok(params
        .chunks(per_cell)
        .map(|c| {
            let (b_ih, b_hh, rest) = if opts.has_biases {
                (Some(&c[2]), Some(&c[3]), &c[4..])
            } else {
                (None, None, &c[2..])
            };
            CellParams {
                w_ih: &c[0],
                w_hh: &c[1],
                b_ih,
                b_hh,
                w_hr: rest.first(),
            }
        })
        .collect())
}

/// The layer loop shared by all four sequence operators. `h0` and `c0`
/// are `[num_layers * num_directions, B, H]`.
fn run_sequence(
    kind: CellKind,
    input: &Tensor,
    h0: &Tensor,
    c0: Option<&Tensor>,
    params: &[Tensor],
    opts: SeqOptions,
) -> Result<(Tensor, Tensor, Option<Tensor>)> {
    let op = kind.op();
    if opts.num_layers < 1 {
        return Err(Error::invalid(
            op,
            format!("num_layers must be positive, got {}", opts.num_layers),
        ));
    }
    if !(0.0..=1.0).contains(&opts.dropout) {
        return Err(Error::invalid(
            op,
            format!(
                "dropout probability has to be between 0 and 1, but got {}",
                opts.dropout
            ),
        ));
    }
    if input.dim() != 3 {
        return Err(Error::shape(
            op,
            format!("input must have 3 dimensions, got {}", input.dim()),
        ));
    }
    let has_projections = matches!(c0, Some(c) if c.dim() == 3 && h0.dim() == 3 && c.sizes()[2] != h0.sizes()[2]);
    let cells = gather_params(op, params, opts, has_projections)?;
    let directions = if opts.bidirectional { 2 } else { 1 };
    let expected_states = opts.num_layers as usize * directions;
    for (name, t) in std::iter::once(("h0", h0)).chain(c0.map(|c| ("c0", c))) {
        if t.dim() != 3 || t.sizes()[0] != expected_states {
            return Err(Error::shape(
                op,
                format!(
                    "expected {name} of shape [{expected_states}, batch, hidden], got {:?}",
                    t.sizes()
                ),
            ));
        }
    }
    let mut layer_input = if opts.batch_first {
        ops::transpose(input, 0, 1)?
    } else {
        input.clone()
    };
    if layer_input.sizes()[0] == 0 {
        return Err(Error::invalid(
            op,
            "Expected sequence length to be larger than 0 in RNN",
        ));
    }
    let (mut final_h, mut final_c) = (Vec::new(), Vec::new());
    for layer in 0..opts.num_layers as usize {
        let mut direction_outputs = Vec::with_capacity(directions);
        for direction in 0..directions {
            let idx = layer * directions + direction;
            let state = Hidden {
                h: ops::select(h0, 0, idx as i64)?,
                c: c0.map(|c| ops::select(c, 0, idx as i64)).transpose()?,
            };
            let (out, last) = run_direction(kind, &layer_input, state, &cells[idx], direction == 1)?;
            direction_outputs.push(out);
            final_h.push(last.h);
            final_c.extend(last.c);
        }
        layer_input = if directions == 2 {
            ops::cat(&direction_outputs, 2)?
        } else {
            direction_outputs.pop().expect("one direction ran")
        };
        if opts.dropout != 0.0 && opts.train && layer + 1 < opts.num_layers as usize {
            layer_input = ops::dropout(&layer_input, opts.dropout, true)?;
        }
    }
    let output = if opts.batch_first {
        ops::transpose(&layer_input, 0, 1)?
    } else {
        layer_input
    };
    let h_n = ops::stack(&final_h, 0)?;
    let c_n = if c0.is_some() {
        Some(ops::stack(&final_c, 0)?)
    } else {
        None
    };
    Ok((output, h_n, c_n))
}

/// `aten::lstm.input`: a multi-layer LSTM over `input` (`[T, B, I]`, or
/// `[B, T, I]` with `batch_first`) from `hx = [h0, c0]`; returns
/// `(output, h_n, c_n)`. `params` holds, per layer and direction,
/// `w_ih, w_hh[, b_ih, b_hh][, w_hr]`; a projection is present when `h0`'s
/// last size differs from `c0`'s.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = ops::ones(&[5, 2, 3]).unwrap();
/// let (h0, c0) = (ops::zeros(&[1, 2, 4]).unwrap(), ops::zeros(&[1, 2, 4]).unwrap());
/// let w_ih = ops::full(&[16, 3], 0.1).unwrap();
/// let w_hh = ops::full(&[16, 4], 0.1).unwrap();
/// let (out, h_n, c_n) = frankentorch::composite_rnn::lstm_input(
///     &x, &[h0, c0], &[w_ih, w_hh], false, 1, 0.0, false, false, false).unwrap();
/// assert_eq!((out.sizes(), h_n.sizes(), c_n.sizes()), (&[5, 2, 4][..], &[1, 2, 4][..], &[1, 2, 4][..]));
/// ```
#[allow(clippy::too_many_arguments)]
pub fn lstm_input(
    input: &Tensor,
    hx: &[Tensor],
    params: &[Tensor],
    has_biases: bool,
    num_layers: i64,
    dropout: f64,
    train: bool,
    bidirectional: bool,
    batch_first: bool,
) -> Result<(Tensor, Tensor, Tensor)> {
    if hx.len() != 2 {
        return Err(Error::invalid("aten::lstm", "lstm expects two hidden states"));
    }
    let opts = SeqOptions {
        has_biases,
        num_layers,
        dropout,
        train,
        bidirectional,
        batch_first,
    };
    let (out, h_n, c_n) = run_sequence(CellKind::Lstm, input, &hx[0], Some(&hx[1]), params, opts)?;
    Ok((out, h_n, c_n.expect("lstm carries a cell state")))
}

macro_rules! single_state_sequence_op {
    ($(#[$doc:meta])* $name:ident, $kind:expr) => {
        $(#[$doc])*
        #[allow(clippy::too_many_arguments)]
        pub fn $name(
            input: &Tensor,
            hx: &Tensor,
            params: &[Tensor],
            has_biases: bool,
            num_layers: i64,
            dropout: f64,
            train: bool,
            bidirectional: bool,
            batch_first: bool,
        ) -> Result<(Tensor, Tensor)> {
            let opts = SeqOptions { has_biases, num_layers, dropout, train, bidirectional, batch_first };
            let (out, h_n, _) = run_sequence($kind, input, hx, None, params, opts)?;
            Ok((out, h_n))
        }
    };
}

single_state_sequence_op!(
    /// `aten::gru.input`: a multi-layer GRU; returns `(output, h_n)`.
    /// `params` holds, per layer and direction, `w_ih, w_hh[, b_ih, b_hh]`.
    ///
    /// ```
    /// use frankentorch::prelude::*;
    /// let x = ops::ones(&[5, 2, 3]).unwrap();
    /// let h0 = ops::zeros(&[1, 2, 4]).unwrap();
    /// let (w_ih, w_hh) = (ops::full(&[12, 3], 0.1).unwrap(), ops::full(&[12, 4], 0.1).unwrap());
    /// let (out, h_n) = frankentorch::composite_rnn::gru_input(
    ///     &x, &h0, &[w_ih, w_hh], false, 1, 0.0, false, false, false).unwrap();
    /// assert_eq!((out.sizes(), h_n.sizes()), (&[5, 2, 4][..], &[1, 2, 4][..]));
    /// ```
    gru_input,
    CellKind::Gru
);
single_state_sequence_op!(
    /// `aten::rnn_tanh.input`: a multi-layer Elman RNN with `tanh`;
    /// returns `(output, h_n)`.
    ///
    /// ```
    /// use frankentorch::prelude::*;
    /// let x = ops::ones(&[5, 2, 3]).unwrap();
    /// let h0 = ops::zeros(&[1, 2, 4]).unwrap();
    /// let (w_ih, w_hh) = (ops::full(&[4, 3], 0.1).unwrap(), ops::full(&[4, 4], 0.1).unwrap());
    /// let (out, _) = frankentorch::composite_rnn::rnn_tanh_input(
    ///     &x, &h0, &[w_ih, w_hh], false, 1, 0.0, false, false, false).unwrap();
    /// assert_eq!(out.sizes(), &[5, 2, 4]);
    /// ```
    rnn_tanh_input,
    CellKind::Tanh
);
single_state_sequence_op!(
    /// `aten::rnn_relu.input`: a multi-layer Elman RNN with `relu`;
    /// returns `(output, h_n)`.
    ///
    /// ```
    /// use frankentorch::prelude::*;
    /// let x = ops::ones(&[5, 2, 3]).unwrap();
    /// let h0 = ops::zeros(&[1, 2, 4]).unwrap();
    /// let (w_ih, w_hh) = (ops::full(&[4, 3], 0.1).unwrap(), ops::full(&[4, 4], 0.1).unwrap());
    /// let (out, _) = frankentorch::composite_rnn::rnn_relu_input(
    ///     &x, &h0, &[w_ih, w_hh], false, 1, 0.0, false, false, false).unwrap();
    /// assert_eq!(out.sizes(), &[5, 2, 4]);
    /// ```
    rnn_relu_input,
    CellKind::Relu
);

/// Checks a cell's input (`[B, I]` or unbatched `[I]`) against `w_ih` and
/// its hidden states against `w_hh`, as PyTorch's cell entry points do.
fn cell_call(kind: CellKind, input: &Tensor, state: Hidden, p: CellParams) -> Result<Hidden> {
    let op = match kind {
        CellKind::Lstm => "aten::lstm_cell",
        CellKind::Gru => "aten::gru_cell",
        CellKind::Tanh => "aten::rnn_tanh_cell",
        CellKind::Relu => "aten::rnn_relu_cell",
    };
    let expected = p.w_ih.sizes().get(1).copied().unwrap_or(0);
    let got = input.sizes().get(1).copied().unwrap_or(0);
    if input.dim() != 2 || got != expected {
        return Err(Error::shape(
            op,
            format!("input has inconsistent input_size: got {got} expected {expected}"),
        ));
    }
    let x_w = ops::linear(input, p.w_ih, p.b_ih).map_err(renamed(op))?;
    step(kind, &x_w, &state, &p).map_err(renamed(op))
}

/// `aten::lstm_cell`: one LSTM step from `hx = [h, c]`; returns `(h', c')`.
///
/// ```
/// use frankentorch::prelude::*;
/// let x = ops::ones(&[2, 3]).unwrap();
/// let hx = [ops::zeros(&[2, 4]).unwrap(), ops::zeros(&[2, 4]).unwrap()];
/// let (w_ih, w_hh) = (ops::full(&[16, 3], 0.1).unwrap(), ops::full(&[16, 4], 0.1).unwrap());
/// let (h, c) = frankentorch::composite_rnn::lstm_cell(&x, &hx, &w_ih, &w_hh, None, None).unwrap();
/// assert_eq!((h.sizes(), c.sizes()), (&[2, 4][..], &[2, 4][..]));
/// ```
pub fn lstm_cell(
    input: &Tensor,
    hx: &[Tensor],
    w_ih: &Tensor,
    w_hh: &Tensor,
    b_ih: Option<&Tensor>,
    b_hh: Option<&Tensor>,
) -> Result<(Tensor, Tensor)> {
    if hx.len() != 2 {
        return Err(Error::invalid("aten::lstm_cell", "lstm_cell expects two hidden states"));
    }
    let state = Hidden {
        h: hx[0].clone(),
        c: Some(hx[1].clone()),
    };
    let p = CellParams {
        w_ih,
        w_hh,
        b_ih,
        b_hh,
        w_hr: None,
    };
    let next = cell_call(CellKind::Lstm, input, state, p)?;
    Ok((next.h, next.c.expect("lstm carries a cell state")))
}

macro_rules! single_state_cell_op {
    ($(#[$doc:meta])* $name:ident, $kind:expr) => {
        $(#[$doc])*
        pub fn $name(
            input: &Tensor,
            hx: &Tensor,
            w_ih: &Tensor,
            w_hh: &Tensor,
            b_ih: Option<&Tensor>,
            b_hh: Option<&Tensor>,
        ) -> Result<Tensor> {
            let state = Hidden { h: hx.clone(), c: None };
            let p = CellParams { w_ih, w_hh, b_ih, b_hh, w_hr: None };
            Ok(cell_call($kind, input, state, p)?.h)
        }
    };
}

single_state_cell_op!(
    /// `aten::gru_cell`: one GRU step; returns `h'`.
    ///
    /// ```
    /// use frankentorch::prelude::*;
    /// let x = ops::ones(&[2, 3]).unwrap();
    /// let h = ops::zeros(&[2, 4]).unwrap();
    /// let (w_ih, w_hh) = (ops::full(&[12, 3], 0.1).unwrap(), ops::full(&[12, 4], 0.1).unwrap());
    /// let h1 = frankentorch::composite_rnn::gru_cell(&x, &h, &w_ih, &w_hh, None, None).unwrap();
    /// assert_eq!(h1.sizes(), &[2, 4]);
    /// ```
    gru_cell,
    CellKind::Gru
);
single_state_cell_op!(
    /// `aten::rnn_tanh_cell`: `tanh(W_ih x + b_ih + W_hh h + b_hh)`.
    ///
    /// ```
    /// use frankentorch::prelude::*;
    /// let x = ops::ones(&[2, 3]).unwrap();
    /// let h = ops::zeros(&[2, 4]).unwrap();
    /// let (w_ih, w_hh) = (ops::full(&[4, 3], 0.1).unwrap(), ops::full(&[4, 4], 0.1).unwrap());
    /// let h1 = frankentorch::composite_rnn::rnn_tanh_cell(&x, &h, &w_ih, &w_hh, None, None).unwrap();
    /// assert_eq!(h1.sizes(), &[2, 4]);
    /// ```
    rnn_tanh_cell,
    CellKind::Tanh
);
single_state_cell_op!(
    /// `aten::rnn_relu_cell`: `relu(W_ih x + b_ih + W_hh h + b_hh)`.
    ///
    /// ```
    /// use frankentorch::prelude::*;
    /// let x = ops::ones(&[2, 3]).unwrap();
    /// let h = ops::zeros(&[2, 4]).unwrap();
    /// let (w_ih, w_hh) = (ops::full(&[4, 3], 0.1).unwrap(), ops::full(&[4, 4], 0.1).unwrap());
    /// let h1 = frankentorch::composite_rnn::rnn_relu_cell(&x, &h, &w_ih, &w_hh, None, None).unwrap();
    /// assert_eq!(h1.sizes(), &[2, 4]);
    /// ```
    rnn_relu_cell,
    CellKind::Relu
);
