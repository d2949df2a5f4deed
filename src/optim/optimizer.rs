//! The optimizer base shared by every algorithm (`torch.optim.Optimizer`):
//! parameter groups, per-parameter state, `zero_grad`, `state_dict` and
//! `load_state_dict` in PyTorch's layout.

use crate::state_value::{DictKey, StateDict, StateValue};
use crate::{Error, Result, Tensor, TensorOps};

/// One parameter group: tensors plus the hyper-parameters that override the
/// optimizer's defaults for them (torch's `{"params": [...], "lr": 0.1}`).
///
/// Options are stored under torch's key names; keys not given take the
/// optimizer's defaults when the group is added.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::optim::{ParamGroup, SgdOpts, SGD, Optimizer};
/// let w = ops::zeros(&[2]).unwrap();
/// w.requires_grad_(true).unwrap();
/// let b = ops::zeros(&[2]).unwrap();
/// b.requires_grad_(true).unwrap();
/// let opt = SGD::new(
///     vec![ParamGroup::new(vec![w]), ParamGroup::new(vec![b]).set("lr", 0.5)],
///     SgdOpts { lr: 0.1, ..Default::default() },
/// ).unwrap();
/// assert_eq!(opt.param_groups()[0].lr().unwrap(), 0.1);
/// assert_eq!(opt.param_groups()[1].lr().unwrap(), 0.5);
/// ```
#[derive(Clone, Debug)]
pub struct ParamGroup {
    /// The tensors this group optimizes.
    pub params: Vec<Tensor>,
    options: StateDict,
}

impl ParamGroup {
    /// A group of `params` with no overrides.
    pub fn new(params: Vec<Tensor>) -> ParamGroup {
        ParamGroup {
            params,
            options: StateDict::new(),
        }
    }
    /// Overrides option `key` (torch's name: `"lr"`, `"momentum"`, `"betas"`, …) for this group.
    pub fn set(mut self, key: &str, value: impl Into<StateValue>) -> ParamGroup {
        self.options.insert(key, value);
        self
    }
    /// The group's options by torch's key names (`params` excluded).
    pub fn options(&self) -> &StateDict {
        &self.options
    }
    /// The group's options, for schedulers and users changing them mid-run
    /// (`group["lr"] = 0.01`).
    pub fn options_mut(&mut self) -> &mut StateDict {
        &mut self.options
    }
    /// The value of option `key`.
    pub fn get(&self, key: &str) -> Option<&StateValue> {
        self.options.get(key)
    }
    /// Sets option `key` in place.
    pub fn insert(&mut self, key: &str, value: impl Into<StateValue>) {
        self.options.insert(key, value);
    }
    /// The group's learning rate (`group["lr"]`).
    pub fn lr(&self) -> Result<f64> {
        self.options.f64_of("optim.param_group", "lr")
    }
    /// Sets the group's learning rate.
    pub fn set_lr(&mut self, lr: f64) {
        self.options.insert("lr", lr);
    }
}

/// What an optimizer is built from: a list of tensors (one group) or of groups.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::optim::Params;
/// let p: Params = vec![ops::zeros(&[1]).unwrap()].into();
/// assert!(matches!(p, Params::Tensors(_)));
/// ```
#[derive(Clone, Debug)]
pub enum Params {
    /// Torch's iterable of tensors.
    Tensors(Vec<Tensor>),
    /// Torch's iterable of param-group dicts.
    Groups(Vec<ParamGroup>),
}

impl From<Vec<Tensor>> for Params {
    fn from(v: Vec<Tensor>) -> Self {
        Params::Tensors(v)
    }
}
impl From<&[Tensor]> for Params {
    fn from(v: &[Tensor]) -> Self {
        Params::Tensors(v.to_vec())
    }
}
impl From<Vec<ParamGroup>> for Params {
    fn from(v: Vec<ParamGroup>) -> Self {
        Params::Groups(v)
    }
}

/// The state every optimizer keeps (torch's `defaults`, `param_groups`, `state`).
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::optim::{Optimizer, SgdOpts, SGD};
/// let w = ops::zeros(&[2]).unwrap();
/// w.requires_grad_(true).unwrap();
/// let opt = SGD::new(vec![w], SgdOpts::default()).unwrap();
/// assert_eq!(opt.core().defaults().get("momentum").unwrap().as_f64(), Some(0.0));
/// ```
#[derive(Clone, Debug)]
pub struct OptimizerCore {
    name: &'static str,
    defaults: StateDict,
    param_groups: Vec<ParamGroup>,
    /// Per-parameter state keyed by the tensor's identity, in insertion order.
    state: Vec<(Tensor, StateDict)>,
}

impl OptimizerCore {
    /// Builds the base from `params` with `defaults` (torch's `Optimizer.__init__`);
    /// `name` (`"optim.SGD"`) names the optimizer in errors.
    pub fn new(name: &'static str, params: Params, defaults: StateDict) -> Result<OptimizerCore> {
        let groups = match params {
            Params::Tensors(t) if t.is_empty() => vec![],
            Params::Tensors(t) => vec![ParamGroup::new(t)],
            Params::Groups(g) => g,
        };
        if groups.is_empty() {
            return Err(Error::invalid(name, "optimizer got an empty parameter list"));
        }
        let mut core = OptimizerCore {
            name,
            defaults,
            param_groups: vec![],
            state: vec![],
        };
        for g in groups {
            core.add_param_group(g)?;
        }
        Ok(core)
    }
    /// The optimizer's name in errors (`optim.SGD`).
    pub fn name(&self) -> &'static str {
        self.name
    }
    /// The constructor's options by torch's key names (`optimizer.defaults`).
    pub fn defaults(&self) -> &StateDict {
        &self.defaults
    }
    /// The parameter groups.
    pub fn param_groups(&self) -> &[ParamGroup] {
        &self.param_groups
    }
    /// The parameter groups, mutable (schedulers change `lr` here).
    pub fn param_groups_mut(&mut self) -> &mut [ParamGroup] {
        &mut self.param_groups
    }
    /// Adds a group (torch's `add_param_group`): missing options take the
    /// defaults; a non-leaf tensor or a tensor already in another group is an error.
    pub fn add_param_group(&mut self, mut group: ParamGroup) -> Result<()> {
        for p in &group.params {
            if !(p.is_leaf() || p.retains_grad()) {
                return Err(Error::invalid(self.name, "can't optimize a non-leaf Tensor"));
            }
        }
        for (k, v) in self.defaults.iter() {
            if let (DictKey::Str(name), Some(given)) = (k, group.options.get(k.clone())) {
                let numeric = v.as_f64().is_some() && given.as_f64().is_some();
                if !numeric && std::mem::discriminant(v) != std::mem::discriminant(given) && !v.is_none() {
                    return Err(Error::invalid(
                        self.name,
                        format!(
                            "param group option '{name}' must be a {} like the default, got {}",
                            v.type_name(),
                            given.type_name()
                        ),
                    ));
                }
            }
            group.options.set_default(k.clone(), v.clone());
        }
        let clash = self
            .param_groups
            .iter()
            .flat_map(|g| &g.params)
            .any(|p| group.params.iter().any(|q| q.is_same(p)));
        if clash {
            return Err(Error::invalid(
                self.name,
                "some parameters appear in more than one parameter group",
            ));
        }
        self.param_groups.push(group);
        Ok(())
    }
    /// The state of parameter `p`, created empty on first access (torch's
    /// `defaultdict(dict)`).
    pub fn state_mut(&mut self, p: &Tensor) -> &mut StateDict {
        let i = match self.state.iter().position(|(t, _)| t.is_same(p)) {
            Some(i) => i,
            None => {
                self.state.push((p.clone(), StateDict::new()));
                self.state.len() - 1
            }
        };
        &mut self.state[i].1
    }
    /// The state of parameter `p`, if it has any entry.
    pub fn state(&self, p: &Tensor) -> Option<&StateDict> {
        self.state.iter().find(|(t, _)| t.is_same(p)).map(|(_, s)| s)
    }
    /// Clears the gradients (torch's `zero_grad(set_to_none)`).
    pub fn zero_grad(&mut self, set_to_none: bool) -> Result<()> {
        let _g = crate::tls::no_grad();
        for p in self.param_groups.iter().flat_map(|g| &g.params) {
            let Some(grad) = p.grad() else { continue };
            if set_to_none {
                p.set_grad(None)?;
            } else {
                let grad = if grad.grad_fn().is_some() {
                    let d = grad.detach();
                    p.set_grad(Some(d.clone()))?;
                    d
                } else {
                    grad
                };
                grad.zero_()?;
            }
        }
        Ok(())
    }
    /// `optimizer.state_dict()`: `{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}`
    /// with parameters numbered across groups in order. Tensors are shared
    /// with the live state, as in torch; see [`StateValue::deep_clone`].
    pub fn state_dict(&self) -> StateDict {
        let mut index: Vec<(Tensor, i64)> = vec![];
        let mut next = 0i64;
        let mut groups = vec![];
        for g in &self.param_groups {
            let mut packed = g.options.clone();
            packed.remove("params");
            let mut ids = vec![];
            for p in &g.params {
                let id = match index.iter().find(|(t, _)| t.is_same(p)) {
                    Some((_, i)) => *i,
                    None => {
                        index.push((p.clone(), next));
                        next
                    }
                };
                next += 1;
                ids.push(StateValue::Int(id));
            }
            // torch counts positions, so a duplicate inside a group still advances the counter.
            packed.insert("params", StateValue::List(ids));
            groups.push(StateValue::Dict(packed));
        }
        let mut state = StateDict::new();
        for (t, s) in &self.state {
            if let Some((_, i)) = index.iter().find(|(p, _)| p.is_same(t)) {
                state.insert(*i, StateValue::Dict(s.clone()));
            }
        }
        let mut sd = StateDict::new();
        sd.insert("state", state);
        sd.insert("param_groups", StateValue::List(groups));
        sd
    }
    /// `optimizer.load_state_dict(sd)`: the saved groups' options replace the
    /// current ones (params kept), and saved state goes to the parameter at the
    /// same position. Tensors other than `step` are cast to the parameter's dtype.
    pub fn load_state_dict(&mut self, sd: &StateDict) -> Result<()> {
        let name = self.name;
        let saved_groups = sd
            .require(name, "param_groups")?
            .as_seq()
            .ok_or_else(|| Error::invalid(name, "state_dict['param_groups'] must be a list"))?;
        if saved_groups.len() != self.param_groups.len() {
            return Err(Error::invalid(
                name,
                "loaded state dict has a different number of parameter groups",
            ));
        }
        let mut saved = vec![];
        for g in saved_groups {
            let g = g
                .as_dict()
                .ok_or_else(|| Error::invalid(name, "each saved param group must be a dict"))?;
            let ids = g
                .require(name, "params")?
                .as_seq()
                .ok_or_else(|| Error::invalid(name, "a saved group's 'params' must be a list"))?;
            saved.push((g, ids));
        }
        if saved
            .iter()
            .zip(&self.param_groups)
            .any(|((_, ids), g)| ids.len() != g.params.len())
        {
            return Err(Error::invalid(
                name,
                "loaded state dict contains a parameter group that doesn't match the size of optimizer's group",
            ));
        }
        let mut id_map: Vec<(DictKey, Tensor)> = vec![];
        for ((_, ids), g) in saved.iter().zip(&self.param_groups) {
            for (id, p) in ids.iter().zip(&g.params) {
                let key = match id {
                    StateValue::Int(i) => DictKey::Int(*i),
                    StateValue::Str(s) => DictKey::Str(s.clone()),
                    other => {
                        return Err(Error::invalid(
                            name,
                            format!("parameter ids must be int or str, got {}", other.type_name()),
                        ))
                    }
                };
                id_map.push((key, p.clone()));
            }
        }
        let saved_state = sd
            .require(name, "state")?
            .as_dict()
            .ok_or_else(|| Error::invalid(name, "state_dict['state'] must be a dict"))?;
        let mut state = vec![];
        for (k, v) in saved_state.iter() {
            let Some((_, p)) = id_map.iter().find(|(id, _)| id == k) else {
                continue;
            };
            let v = v
                .as_dict()
                .ok_or_else(|| Error::invalid(name, "each parameter's state must be a dict"))?;
            let mut cast = StateDict::new();
            for (key, value) in v.iter() {
                let value = match (key, value) {
                    (DictKey::Str(s), StateValue::Tensor(t)) if s != "step" && t.dtype() != p.dtype() => {
                        StateValue::Tensor(crate::autograd_helpers::to_dtype(t, p.dtype())?)
                    }
                    _ => value.clone(),
                };
                cast.insert(key.clone(), value);
            }
            state.push((p.clone(), cast));
        }
        for ((g, _), group) in saved.iter().zip(self.param_groups.iter_mut()) {
            let mut options = (*g).clone();
            options.remove("params");
            group.options = options;
        }
        self.state = state;
        Ok(())
    }
    /// Fails for options torch has but FrankenTorch does not run
    /// (`foreach`, `fused`, `capturable`, `differentiable` set to true in a loaded group).
    pub fn check_unsupported(&self, group: &ParamGroup) -> Result<()> {
        for key in ["fused", "capturable", "differentiable"] {
            if group.get(key).and_then(|v| v.as_bool()) == Some(true) {
                return Err(Error::not_supported(
                    self.name,
                    format!("`{key}=True` is not supported (FEATURE_PARITY.md)"),
                ));
            }
        }
        Ok(())
    }
}

/// A `torch.optim` optimizer: an update rule over [`OptimizerCore`]'s groups and state.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::optim::{Optimizer, SgdOpts, SGD};
/// let w = Tensor::from_vec(vec![1.0f32, 2.0], &[2]).unwrap();
/// w.requires_grad_(true).unwrap();
/// let mut opt = SGD::new(vec![w.clone()], SgdOpts { lr: 0.5, ..Default::default() }).unwrap();
/// backward(&w.mul(&w).unwrap().sum().unwrap()).unwrap(); // grad = 2w
/// opt.step().unwrap();
/// assert_eq!(w.to_vec::<f32>().unwrap(), vec![0.0, 0.0]);
/// opt.zero_grad(true).unwrap();
/// assert!(w.grad().is_none());
/// ```
pub trait Optimizer {
    /// The shared base (groups, defaults, state).
    fn core(&self) -> &OptimizerCore;
    /// The shared base, mutable.
    fn core_mut(&mut self) -> &mut OptimizerCore;
    /// One update of every parameter that has a gradient (under `no_grad`).
    fn step(&mut self) -> Result<()>;

    /// The parameter groups.
    fn param_groups(&self) -> &[ParamGroup] {
        self.core().param_groups()
    }
    /// The parameter groups, mutable (`optimizer.param_groups[i]["lr"] = …`).
    fn param_groups_mut(&mut self) -> &mut [ParamGroup] {
        self.core_mut().param_groups_mut()
    }
    /// The constructor's options (`optimizer.defaults`).
    fn defaults(&self) -> &StateDict {
        self.core().defaults()
    }
    /// `optimizer.add_param_group(group)`.
    fn add_param_group(&mut self, group: ParamGroup) -> Result<()> {
        self.core_mut().add_param_group(group)
    }
    /// `optimizer.zero_grad(set_to_none)` (torch's default is `true`).
    fn zero_grad(&mut self, set_to_none: bool) -> Result<()> {
        self.core_mut().zero_grad(set_to_none)
    }
    /// `optimizer.state_dict()` (see [`OptimizerCore::state_dict`]).
    fn state_dict(&self) -> StateDict {
        self.core().state_dict()
    }
    /// `optimizer.load_state_dict(sd)` (see [`OptimizerCore::load_state_dict`]).
    fn load_state_dict(&mut self, sd: &StateDict) -> Result<()> {
        self.core_mut().load_state_dict(sd)
    }
}

/// The parameters of `group` that have a gradient, with their gradients
/// (torch's `_init_group` loop; `maximize` negates the gradient).
pub(crate) fn params_with_grad(group: &ParamGroup, maximize: bool) -> Result<Vec<(Tensor, Tensor)>> {
    let mut out = vec![];
    for p in &group.params {
        if let Some(g) = p.grad() {
            let g = if maximize { g.neg()? } else { g };
            out.push((p.clone(), g));
        }
    }
    Ok(out)
}

/// A new 0-dim float32 tensor holding `v` (torch's `state["step"]`).
pub(crate) fn scalar_f32(v: f64) -> Result<Tensor> {
    crate::ops::scalar_tensor_full(v, Some(crate::DType::F32), None, None, None)
}

/// Adds one to a float32 step counter in place and returns its new value as
/// a Python float (torch's `step_t += 1; _get_value(step_t)`).
pub(crate) fn bump_step(step: &Tensor) -> Result<f64> {
    step.add_scalar_(1.0, 1.0)?;
    Ok(step.to_f64_vec()[0])
}

/// A number option of torch's optimizer constructors that must be `>= 0`:
/// `Invalid learning rate: -1` style errors.
pub(crate) fn check_nonneg(who: &str, what: &str, v: f64) -> Result<()> {
    if v >= 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(who, format!("Invalid {what}: {}", py_float(v))))
    }
}

/// Adam-family `betas` checks (`Invalid beta parameter at index 0: 1.0`).
pub(crate) fn check_betas(who: &str, betas: (f64, f64)) -> Result<()> {
    for (i, b) in [betas.0, betas.1].into_iter().enumerate() {
        if !(0.0..1.0).contains(&b) {
            return Err(Error::invalid(
                who,
                format!("Invalid beta parameter at index {i}: {}", py_float(b)),
            ));
        }
    }
    Ok(())
}

/// A default that torch writes as the Python int `0` (`momentum: float = 0`):
/// kept an `int` while it is zero, so state dicts show torch's types.
pub(crate) fn int_default(v: f64) -> StateValue {
    if v == 0.0 {
        StateValue::Int(0)
    } else {
        StateValue::Float(v)
    }
}

/// Python's `str(float)`: `-1.0`, `0.5`, `1e-08`.
pub(crate) fn py_float(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v == v.trunc() && v.abs() < 1e16 {
        return format!("{v:.1}");
    }
    let a = v.abs();
    if !(1e-4..1e16).contains(&a) {
        let s = format!("{v:e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let e: i32 = e.parse().unwrap_or(0);
        let sign = if e < 0 { '-' } else { '+' };
        return format!("{m}e{sign}{:02}", e.abs());
    }
    format!("{v}")
}

#[cfg(test)]
mod tests {
    use super::py_float;
    #[test]
    fn python_float_text() {
        assert_eq!(py_float(-1.0), "-1.0");
        assert_eq!(py_float(0.5), "0.5");
        assert_eq!(py_float(-1e-8), "-1e-08");
        assert_eq!(py_float(1.5e20), "1.5e+20");
        assert_eq!(py_float(-0.001), "-0.001");
    }
}
