//! A fail-closed pickle machine for checkpoints (`torch.load(weights_only=True)`).
//!
//! It never imports or calls anything: `GLOBAL`/`STACK_GLOBAL` resolve only
//! against the globals state dicts need ([`Unpickler`] lists them), `REDUCE`
//! applies only those, `BUILD` only sets an `OrderedDict`'s attributes, and a
//! persistent id must be `('storage', torch.<T>Storage, key, location,
//! numel)`. Every other opcode or global is a typed error naming it.
//!
//! Objects live in an arena addressed by index (so memo references share
//! an object as Python does, and a list appended to itself is only a cycle
//! of indices); the result is turned into a [`Value`] tree with a depth
//! limit, a size budget bounded by the input and cycle detection. Every
//! length is checked against the bytes left before anything is allocated.

use super::{op, storage_dtype};
use crate::serialize::Value;
use crate::{DType, Error, Result, Storage, Tensor};
use std::collections::{HashMap, HashSet};

/// Nesting deeper than this is refused when building values.
const MAX_DEPTH: usize = 1000;
/// Upper bound on the pickle stack plus marks (far above what `torch.save` needs).
const MAX_STACK: usize = 1 << 22;

fn bad(message: impl Into<String>) -> Error {
    Error::invalid("torch.load", message)
}

fn unsupported(message: impl Into<String>) -> Error {
    Error::not_supported("torch.load", message)
}

type Id = usize;

/// A storage named by a persistent id: `data/<key>` of the archive.
///
/// ```
/// use frankentorch::serialize::pickle::reader::StorageRef;
/// use frankentorch::DType;
/// let r = StorageRef { key: "0".into(), dtype: DType::F32, numel: 4 };
/// assert_eq!(r.nbytes(), Some(16));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageRef {
    /// The storage key.
    pub key: String,
    /// The element type the storage class names.
    pub dtype: DType,
    /// The number of elements the pickle claims the whole storage has.
    pub numel: u64,
}

impl StorageRef {
    /// `numel × itemsize`, or `None` on overflow.
    pub fn nbytes(&self) -> Option<u64> {
        self.numel.checked_mul(self.dtype.itemsize() as u64)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Global {
    OrderedDict,
    RebuildTensorV2,
    RebuildParameter,
    RebuildParameterWithState,
    StorageClass(DType),
    CodecsEncode,
}

#[derive(Clone, Debug)]
struct TensorSpec {
    storage: usize,
    offset: usize,
    sizes: Vec<usize>,
    strides: Vec<usize>,
    requires_grad: bool,
}

/// A hashable key, for Python's dict semantics (a repeated key replaces).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum HKey {
    None,
    Int(i64),
    Float(u64),
    Str(u32),
    Bytes(Vec<u8>),
    Tuple(Vec<HKey>),
    Ident(Id),
}

#[derive(Clone, Debug, Default)]
struct DictObj {
    items: Vec<(Id, Id)>,
    index: HashMap<HKey, usize>,
    ordered: bool,
    /// The dict a BUILD set the attributes from.
    state: Option<Id>,
}

#[derive(Clone, Debug)]
enum Obj {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<Id>),
    Tuple(Vec<Id>),
    Dict(DictObj),
    Global(Global),
    Storage(usize),
    Tensor(TensorSpec),
    Parameter { data: Id, requires_grad: bool },
}

impl Obj {
    fn kind(&self) -> &'static str {
        match self {
            Obj::None => "None",
            Obj::Bool(_) => "bool",
            Obj::Int(_) => "int",
            Obj::Float(_) => "float",
            Obj::Str(_) => "str",
            Obj::Bytes(_) => "bytes",
            Obj::List(_) => "list",
            Obj::Tuple(_) => "tuple",
            Obj::Dict(d) if d.ordered => "OrderedDict",
            Obj::Dict(_) => "dict",
            Obj::Global(_) => "global",
            Obj::Storage(_) => "storage",
            Obj::Tensor(_) => "Tensor",
            Obj::Parameter { .. } => "Parameter",
        }
    }
}

/// The restricted unpickler.
///
/// Allowed globals: `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`,
/// `torch._utils._rebuild_parameter`, `torch._utils._rebuild_parameter_with_state`
/// (without state), `_codecs.encode` (bytes), and the storage classes
/// `torch.{Double,Float,Half,BFloat16,Long,Int,Short,Char,Byte,Bool}Storage`.
/// Other `torch` globals are `NotSupported`; anything else is refused as
/// `InvalidArgument`.
///
/// ```
/// use frankentorch::serialize::pickle::reader::Unpickler;
/// use frankentorch::ErrorKind;
/// // GLOBAL 'os system'
/// let evil = b"\x80\x02cos\nsystem\nq\x00.";
/// let e = Unpickler::new(evil).load().unwrap_err();
/// assert_eq!(e.kind(), ErrorKind::InvalidArgument);
/// assert!(e.to_string().contains("global 'os.system' is not allowed"));
/// ```
pub struct Unpickler<'a> {
    data: &'a [u8],
    pos: usize,
    objs: Vec<Obj>,
    stack: Vec<Id>,
    marks: Vec<usize>,
    memo: HashMap<u32, Id>,
    storages: Vec<StorageRef>,
    storage_keys: HashMap<String, usize>,
    /// Each distinct string's number, so dict keys hash in O(1) however
    /// often a long string is reused through the memo.
    interned: HashMap<String, u32>,
    str_ids: HashMap<Id, u32>,
    legacy: bool,
}

/// A loaded pickle: its objects and the storages they reference. Turn it
/// into a [`Value`] with [`Pickled::to_value`] once the storages' bytes are
/// at hand.
#[derive(Debug)]
pub struct Pickled {
    objs: Vec<Obj>,
    root: Id,
    storages: Vec<StorageRef>,
    input_len: usize,
}

impl<'a> Unpickler<'a> {
    /// An unpickler over `data` (the zip format's persistent ids).
    pub fn new(data: &'a [u8]) -> Unpickler<'a> {
        Unpickler {
            data,
            pos: 0,
            objs: vec![],
            stack: vec![],
            marks: vec![],
            memo: HashMap::new(),
            storages: vec![],
            storage_keys: HashMap::new(),
            interned: HashMap::new(),
            str_ids: HashMap::new(),
            legacy: false,
        }
    }

    /// An unpickler accepting the legacy format's 6-element persistent ids
    /// (whose view metadata must be `None`).
    pub fn legacy(data: &'a [u8]) -> Unpickler<'a> {
        Unpickler {
            legacy: true,
            ..Unpickler::new(data)
        }
    }

    /// Bytes consumed so far (the legacy format reads several pickles in a row).
    pub fn position(&self) -> usize {
        self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let data = self.data;
        let end = self.pos.checked_add(n).filter(|&e| e <= data.len()).ok_or_else(|| {
            bad(format!(
                "pickle data was truncated (needs {n} bytes at offset {}, {} left)",
                self.pos,
                data.len().saturating_sub(self.pos)
            ))
        })?;
        let s = &data[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }
    fn len_u64(&mut self) -> Result<usize> {
        let n = self.u64()?;
        usize::try_from(n).map_err(|_| bad(format!("pickle length {n} is larger than the input")))
    }
    fn line(&mut self) -> Result<&'a str> {
        let rest = self.data.get(self.pos..).unwrap_or_default();
        let n = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| bad("pickle data was truncated (unterminated GLOBAL line)"))?;
        let s = self.take(n)?;
        self.pos += 1;
        std::str::from_utf8(s).map_err(|_| bad("GLOBAL name is not valid UTF-8"))
    }
    fn text(&mut self, n: usize) -> Result<String> {
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| bad("pickled string is not valid UTF-8"))
    }

    fn new_obj(&mut self, o: Obj) -> Id {
        self.objs.push(o);
        self.objs.len() - 1
    }
    fn push(&mut self, o: Obj) -> Result<()> {
        let id = self.new_obj(o);
        self.push_id(id)
    }
    fn push_str(&mut self, s: String) -> Result<()> {
        let next = self.interned.len() as u32;
        let sid = *self.interned.entry(s.clone()).or_insert(next);
        let id = self.new_obj(Obj::Str(s));
        self.str_ids.insert(id, sid);
        self.push_id(id)
    }
    fn push_id(&mut self, id: Id) -> Result<()> {
        if self.stack.len() + self.marks.len() >= MAX_STACK {
            return Err(bad("pickle stack too deep"));
        }
        self.stack.push(id);
        Ok(())
    }
    fn floor(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }
    fn pop(&mut self, what: &str) -> Result<Id> {
        if self.stack.len() <= self.floor() {
            return Err(bad(format!("pickle stack underflow ({what} needs an object)")));
        }
        self.stack.pop().ok_or_else(|| bad("pickle stack underflow"))
    }
    fn top(&self, what: &str) -> Result<Id> {
        if self.stack.len() <= self.floor() {
            return Err(bad(format!("pickle stack underflow ({what} needs an object)")));
        }
        self.stack.last().copied().ok_or_else(|| bad("pickle stack underflow"))
    }
    fn pop_mark(&mut self, what: &str) -> Result<Vec<Id>> {
        let m = self
            .marks
            .pop()
            .ok_or_else(|| bad(format!("{what} without a MARK on the pickle stack")))?;
        Ok(self.stack.split_off(m.min(self.stack.len())))
    }
    fn obj(&self, id: Id) -> &Obj {
        &self.objs[id]
    }

    fn memo_put(&mut self, key: u32) -> Result<()> {
        let top = self.top("a memo put")?;
        if self.memo.len() >= MAX_STACK && !self.memo.contains_key(&key) {
            return Err(bad("pickle memo too large"));
        }
        self.memo.insert(key, top);
        Ok(())
    }
    fn memo_get(&mut self, key: u32) -> Result<()> {
        let id = *self
            .memo
            .get(&key)
            .ok_or_else(|| bad(format!("memo key {key} is missing (BINGET of an object never put)")))?;
        self.push_id(id)
    }

    fn global(module: &str, name: &str) -> Result<Global> {
        Ok(match (module, name) {
            ("collections", "OrderedDict") => Global::OrderedDict,
            ("torch._utils", "_rebuild_tensor_v2") => Global::RebuildTensorV2,
            ("torch._utils", "_rebuild_parameter") => Global::RebuildParameter,
            ("torch._utils", "_rebuild_parameter_with_state") => Global::RebuildParameterWithState,
            ("_codecs", "encode") => Global::CodecsEncode,
            ("torch", class) if storage_dtype(class).is_some() => {
                Global::StorageClass(storage_dtype(class).unwrap_or(DType::F32))
            }
            _ if module == "torch" || module.starts_with("torch.") => {
                return Err(unsupported(format!(
                    "global '{module}.{name}' is not supported (only the tensors, storages and containers of state dicts are; \
                     sparse, quantized, complex, meta and subclass tensors and pickled modules are not)"
                )))
            }
            _ => {
                return Err(bad(format!(
                    "global '{module}.{name}' is not allowed (only the globals of state dicts are)"
                )))
            }
        })
    }

    /// Runs the pickle to its STOP and returns the loaded objects.
    pub fn load(mut self) -> Result<Pickled> {
        let root = self.run()?;
        Ok(Pickled {
            objs: self.objs,
            root,
            storages: self.storages,
            input_len: self.data.len(),
        })
    }

    /// Runs one pickle to its STOP, then continues with the next pickle of
    /// the same input (the legacy format); returns the loaded objects of
    /// this one and the unpickler for the rest.
    pub fn load_next(mut self) -> Result<(Pickled, Unpickler<'a>)> {
        let root = self.run()?;
        let rest = Unpickler {
            data: self.data,
            pos: self.pos,
            objs: vec![],
            stack: vec![],
            marks: vec![],
            memo: HashMap::new(),
            storages: vec![],
            storage_keys: HashMap::new(),
            interned: HashMap::new(),
            str_ids: HashMap::new(),
            legacy: self.legacy,
        };
        let done = Pickled {
            objs: self.objs,
            root,
            storages: self.storages,
            input_len: self.data.len(),
        };
        Ok((done, rest))
    }

    fn run(&mut self) -> Result<Id> {
        loop {
            let at = self.pos;
            let code = self.byte()?;
            match code {
                op::PROTO => {
                    let v = self.byte()?;
                    if v > 5 {
                        return Err(bad(format!("unsupported pickle protocol: {v}")));
                    }
                }
                op::FRAME => {
                    let n = self.u64()?;
                    if n > (self.data.len() - self.pos) as u64 {
                        return Err(bad("pickle FRAME longer than the data left"));
                    }
                }
                op::STOP => {
                    let top = self.pop("STOP")?;
                    return Ok(top);
                }
                op::MARK => {
                    if self.stack.len() + self.marks.len() >= MAX_STACK {
                        return Err(bad("pickle stack too deep"));
                    }
                    self.marks.push(self.stack.len());
                }
                op::POP => {
                    if self.stack.len() > self.floor() {
                        self.stack.pop();
                    } else {
                        self.pop_mark("POP")?;
                    }
                }
                op::POP_MARK => {
                    self.pop_mark("POP_MARK")?;
                }
                op::DUP => {
                    let t = self.top("DUP")?;
                    self.push_id(t)?;
                }
                op::NONE => self.push(Obj::None)?,
                op::NEWTRUE => self.push(Obj::Bool(true))?,
                op::NEWFALSE => self.push(Obj::Bool(false))?,
                op::BININT => {
                    let v = self.u32()? as i32;
                    self.push(Obj::Int(i64::from(v)))?
                }
                op::BININT1 => {
                    let v = self.byte()?;
                    self.push(Obj::Int(i64::from(v)))?
                }
                op::BININT2 => {
                    let v = self.u16()?;
                    self.push(Obj::Int(i64::from(v)))?
                }
                op::LONG1 | op::LONG4 => {
                    let n = if code == op::LONG1 {
                        usize::from(self.byte()?)
                    } else {
                        self.u32()? as usize
                    };
                    let b = self.take(n)?;
                    self.push(Obj::Int(decode_long(b)?))?
                }
                op::BINFLOAT => {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(self.take(8)?);
                    self.push(Obj::Float(f64::from_be_bytes(a)))?
                }
                op::BINUNICODE | op::BINSTRING => {
                    let n = self.u32()? as usize;
                    let s = self.text(n)?;
                    self.push_str(s)?
                }
                op::SHORT_BINUNICODE | op::SHORT_BINSTRING => {
                    let n = usize::from(self.byte()?);
                    let s = self.text(n)?;
                    self.push_str(s)?
                }
                op::BINUNICODE8 => {
                    let n = self.len_u64()?;
                    let s = self.text(n)?;
                    self.push_str(s)?
                }
                op::BINBYTES | op::SHORT_BINBYTES | op::BINBYTES8 => {
                    let n = match code {
                        op::BINBYTES => self.u32()? as usize,
                        op::SHORT_BINBYTES => usize::from(self.byte()?),
                        _ => self.len_u64()?,
                    };
                    let b = self.take(n)?.to_vec();
                    self.push(Obj::Bytes(b))?
                }
                op::EMPTY_TUPLE => self.push(Obj::Tuple(vec![]))?,
                op::TUPLE1 | op::TUPLE2 | op::TUPLE3 => {
                    let n = usize::from(code - op::TUPLE1 + 1);
                    let mut items = vec![0; n];
                    for slot in items.iter_mut().rev() {
                        *slot = self.pop("TUPLE")?;
                    }
                    self.push(Obj::Tuple(items))?
                }
                op::TUPLE => {
                    let items = self.pop_mark("TUPLE")?;
                    self.push(Obj::Tuple(items))?
                }
                op::EMPTY_LIST => self.push(Obj::List(vec![]))?,
                op::LIST => {
                    let items = self.pop_mark("LIST")?;
                    self.push(Obj::List(items))?
                }
                op::EMPTY_DICT => self.push(Obj::Dict(DictObj::default()))?,
                op::DICT => {
                    let items = self.pop_mark("DICT")?;
                    let d = self.new_obj(Obj::Dict(DictObj::default()));
                    self.set_items(d, &items)?;
                    self.push_id(d)?
                }
                op::APPEND => {
                    let v = self.pop("APPEND")?;
                    let list = self.top("APPEND")?;
                    self.append(list, &[v])?
                }
                op::APPENDS => {
                    let items = self.pop_mark("APPENDS")?;
                    let list = self.top("APPENDS")?;
                    self.append(list, &items)?
                }
                op::SETITEM => {
                    let v = self.pop("SETITEM")?;
                    let k = self.pop("SETITEM")?;
                    let d = self.top("SETITEM")?;
                    self.set_items(d, &[k, v])?
                }
                op::SETITEMS => {
                    let items = self.pop_mark("SETITEMS")?;
                    let d = self.top("SETITEMS")?;
                    self.set_items(d, &items)?
                }
                op::BINPUT => {
                    let k = self.byte()?;
                    self.memo_put(u32::from(k))?
                }
                op::LONG_BINPUT => {
                    let k = self.u32()?;
                    self.memo_put(k)?
                }
                op::MEMOIZE => {
                    let k = u32::try_from(self.memo.len()).map_err(|_| bad("pickle memo too large"))?;
                    self.memo_put(k)?
                }
                op::BINGET => {
                    let k = self.byte()?;
                    self.memo_get(u32::from(k))?
                }
                op::LONG_BINGET => {
                    let k = self.u32()?;
                    self.memo_get(k)?
                }
                op::GLOBAL => {
                    let module = self.line()?;
                    let name = self.line()?;
                    let g = Self::global(module, name)?;
                    self.push(Obj::Global(g))?
                }
                op::STACK_GLOBAL => {
                    let name = self.pop("STACK_GLOBAL")?;
                    let module = self.pop("STACK_GLOBAL")?;
                    let (Obj::Str(m), Obj::Str(n)) = (self.obj(module), self.obj(name)) else {
                        return Err(bad("STACK_GLOBAL needs two strings"));
                    };
                    let g = Self::global(m, n)?;
                    self.push(Obj::Global(g))?
                }
                op::REDUCE => {
                    let args = self.pop("REDUCE")?;
                    let f = self.pop("REDUCE")?;
                    let result = self.reduce(f, args)?;
                    self.push(result)?
                }
                op::BUILD => {
                    let state = self.pop("BUILD")?;
                    let target = self.top("BUILD")?;
                    self.build(target, state)?
                }
                op::BINPERSID => {
                    let pid = self.pop("BINPERSID")?;
                    let s = self.persistent_load(pid)?;
                    self.push(Obj::Storage(s))?
                }
                op::NEWOBJ => {
                    let _args = self.pop("NEWOBJ")?;
                    let cls = self.pop("NEWOBJ")?;
                    return Err(bad(format!(
                        "NEWOBJ of a {} is not allowed (state dicts never construct objects)",
                        self.obj(cls).kind()
                    )));
                }
                other => {
                    return Err(bad(format!(
                        "unsupported pickle opcode 0x{other:02x} ('{}') at offset {at}",
                        char::from(other).escape_default()
                    )))
                }
            }
        }
    }

    fn append(&mut self, list: Id, items: &[Id]) -> Result<()> {
        let kind = self.obj(list).kind();
        match &mut self.objs[list] {
            Obj::List(v) => {
                v.extend_from_slice(items);
                Ok(())
            }
            _ => Err(bad(format!("APPEND to a {kind} (only lists can be appended to)"))),
        }
    }

    fn hash_key(&self, id: Id, depth: usize) -> Result<HKey> {
        if depth > 8 {
            return Err(bad("dict key nested too deeply"));
        }
        Ok(match self.obj(id) {
            Obj::None => HKey::None,
            Obj::Bool(b) => HKey::Int(i64::from(*b)),
            Obj::Int(i) => HKey::Int(*i),
            Obj::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e18 => HKey::Int(*f as i64),
            Obj::Float(f) => HKey::Float(f.to_bits()),
            Obj::Str(_) => HKey::Str(*self.str_ids.get(&id).ok_or_else(|| bad("uninterned string"))?),
            Obj::Bytes(b) if b.len() <= 256 => HKey::Bytes(b.clone()),
            Obj::Tuple(items) if items.len() <= 64 => HKey::Tuple(
                items
                    .iter()
                    .map(|&i| self.hash_key(i, depth + 1))
                    .collect::<Result<_>>()?,
            ),
            Obj::Bytes(_) | Obj::Tuple(_) => {
                return Err(bad(
                    "dict keys of bytes over 256 bytes or tuples over 64 items are not supported",
                ))
            }
            Obj::Tensor(_) | Obj::Parameter { .. } | Obj::Global(_) | Obj::Storage(_) => HKey::Ident(id),
            other => return Err(bad(format!("unhashable type: '{}' used as a dict key", other.kind()))),
        })
    }

    fn set_items(&mut self, dict: Id, items: &[Id]) -> Result<()> {
        if !items.len().is_multiple_of(2) {
            return Err(bad("SETITEMS with an odd number of items"));
        }
        if !matches!(self.obj(dict), Obj::Dict(_)) {
            return Err(bad(format!(
                "SETITEM on a {} (only dicts take items)",
                self.obj(dict).kind()
            )));
        }
        for pair in items.chunks(2) {
            let (k, v) = (pair[0], pair[1]);
            let h = self.hash_key(k, 0)?;
            if let Obj::Dict(d) = &mut self.objs[dict] {
                match d.index.get(&h) {
                    Some(&i) => d.items[i].1 = v,
                    None => {
                        d.index.insert(h, d.items.len());
                        d.items.push((k, v));
                    }
                }
            }
        }
        Ok(())
    }

    /// BUILD: only an `OrderedDict`'s attributes, once, from a dict (checked
    /// when the value is built, so BUILD itself is O(1)).
    fn build(&mut self, target: Id, state: Id) -> Result<()> {
        let state_is_dict = matches!(self.obj(state), Obj::Dict(s) if !s.ordered);
        match &mut self.objs[target] {
            Obj::Dict(t) if t.ordered && state_is_dict => {
                if t.state.is_some() {
                    return Err(bad("BUILD applied twice to one OrderedDict"));
                }
                t.state = Some(state);
                Ok(())
            }
            t => Err(bad(format!(
                "BUILD of a {} with a {} state is not allowed (only an OrderedDict's attributes can be set)",
                t.kind(),
                self.objs[state].kind()
            ))),
        }
    }

    fn int_arg(&self, id: Id, what: &str) -> Result<i64> {
        match self.obj(id) {
            Obj::Int(i) => Ok(*i),
            other => Err(bad(format!("{what} must be an int, got {}", other.kind()))),
        }
    }

    fn usize_arg(&self, id: Id, what: &str) -> Result<usize> {
        let v = self.int_arg(id, what)?;
        usize::try_from(v).map_err(|_| bad(format!("{what} must be non-negative, got {v}")))
    }

    fn dims(&self, id: Id, what: &str) -> Result<Vec<usize>> {
        match self.obj(id) {
            Obj::Tuple(items) => items.iter().map(|&i| self.usize_arg(i, what)).collect(),
            other => Err(bad(format!("{what} must be a tuple of ints, got {}", other.kind()))),
        }
    }

    fn is_empty_container(&self, id: Id) -> bool {
        match self.obj(id) {
            Obj::None => true,
            Obj::Dict(d) => d.items.is_empty(),
            _ => false,
        }
    }

    fn reduce(&mut self, f: Id, args: Id) -> Result<Obj> {
        let Obj::Global(g) = *self.obj(f) else {
            return Err(bad(format!(
                "REDUCE of a {} (only allowed globals can be called)",
                self.obj(f).kind()
            )));
        };
        let Obj::Tuple(args) = self.obj(args).clone() else {
            return Err(bad("REDUCE arguments must be a tuple"));
        };
        match g {
            Global::OrderedDict => {
                if !args.is_empty() {
                    return Err(bad("OrderedDict(...) with arguments is not supported"));
                }
                Ok(Obj::Dict(DictObj {
                    ordered: true,
                    ..DictObj::default()
                }))
            }
            Global::RebuildTensorV2 => self.rebuild_tensor(&args),
            Global::RebuildParameter | Global::RebuildParameterWithState => {
                let n = if g == Global::RebuildParameter { 3 } else { 4 };
                if args.len() != n {
                    return Err(bad(format!(
                        "_rebuild_parameter takes {n} arguments, got {}",
                        args.len()
                    )));
                }
                if !matches!(self.obj(args[0]), Obj::Tensor(_)) {
                    return Err(bad(format!(
                        "a Parameter's data must be a Tensor, got {}",
                        self.obj(args[0]).kind()
                    )));
                }
                let Obj::Bool(requires_grad) = *self.obj(args[1]) else {
                    return Err(bad("a Parameter's requires_grad must be a bool"));
                };
                if !self.is_empty_container(args[2]) {
                    return Err(unsupported("Parameters with backward hooks are not supported"));
                }
                if n == 4 && !self.is_empty_container(args[3]) {
                    return Err(unsupported("Parameters with extra Python state are not supported"));
                }
                Ok(Obj::Parameter {
                    data: args[0],
                    requires_grad,
                })
            }
            Global::CodecsEncode => {
                let (Some(Obj::Str(text)), Some(Obj::Str(enc))) =
                    (args.first().map(|&i| self.obj(i)), args.get(1).map(|&i| self.obj(i)))
                else {
                    return Err(bad("_codecs.encode takes (str, encoding)"));
                };
                if args.len() != 2 || !matches!(enc.as_str(), "latin1" | "latin-1") {
                    return Err(bad("_codecs.encode is only allowed with the 'latin1' encoding"));
                }
                let bytes = text
                    .chars()
                    .map(|c| u8::try_from(u32::from(c)).map_err(|_| bad("_codecs.encode: text is not latin-1")))
                    .collect::<Result<Vec<u8>>>()?;
                Ok(Obj::Bytes(bytes))
            }
            Global::StorageClass(d) => Err(bad(format!("calling torch.{} is not allowed", super::storage_class(d)))),
        }
    }

    fn rebuild_tensor(&self, args: &[Id]) -> Result<Obj> {
        if !(6..=7).contains(&args.len()) {
            return Err(bad(format!(
                "_rebuild_tensor_v2 takes 6 or 7 arguments, got {}",
                args.len()
            )));
        }
        let Obj::Storage(storage) = *self.obj(args[0]) else {
            return Err(bad(format!(
                "_rebuild_tensor_v2 needs a storage, got {}",
                self.obj(args[0]).kind()
            )));
        };
        let offset = self.usize_arg(args[1], "storage_offset")?;
        let sizes = self.dims(args[2], "size")?;
        let strides = self.dims(args[3], "stride")?;
        let Obj::Bool(requires_grad) = *self.obj(args[4]) else {
            return Err(bad("_rebuild_tensor_v2's requires_grad must be a bool"));
        };
        if !self.is_empty_container(args[5]) {
            return Err(unsupported("tensors with backward hooks are not supported"));
        }
        if let Some(&meta) = args.get(6) {
            if !self.is_empty_container(meta) {
                return Err(unsupported(
                    "tensor metadata (conjugate/negative bits) is not supported",
                ));
            }
        }
        if sizes.len() != strides.len() {
            return Err(bad(format!(
                "size has {} dims but stride has {}",
                sizes.len(),
                strides.len()
            )));
        }
        let numel = sizes
            .iter()
            .try_fold(1usize, |acc, &s| acc.checked_mul(s))
            .ok_or_else(|| bad(format!("tensor size {sizes:?} overflows")))?;
        let info = &self.storages[storage];
        if numel > 0 {
            let mut last = offset as u128;
            for (&s, &st) in sizes.iter().zip(&strides) {
                last += (s as u128 - 1) * st as u128;
            }
            if last >= u128::from(info.numel) {
                return Err(bad(format!(
                    "tensor of size {sizes:?}, stride {strides:?} and storage offset {offset} reaches element {last} \
                     of storage '{}' which has only {} elements",
                    info.key, info.numel
                )));
            }
        }
        Ok(Obj::Tensor(TensorSpec {
            storage,
            offset,
            sizes,
            strides,
            requires_grad,
        }))
    }

    fn persistent_load(&mut self, pid: Id) -> Result<usize> {
        let Obj::Tuple(items) = self.obj(pid) else {
            return Err(bad(format!(
                "persistent id must be a tuple, got {}",
                self.obj(pid).kind()
            )));
        };
        let expected = if self.legacy { 6 } else { 5 };
        let shape_err = || {
            bad(format!(
                "persistent id must be ('storage', storage_type, key, location, numel{}), got another tuple",
                if self.legacy { ", view_metadata" } else { "" }
            ))
        };
        if items.len() != expected {
            return Err(shape_err());
        }
        let tag = match self.obj(items[0]) {
            Obj::Str(s) => s.as_str(),
            _ => return Err(shape_err()),
        };
        if tag != "storage" {
            return Err(bad(format!(
                "persistent id of type '{tag}' is not allowed (only 'storage')"
            )));
        }
        let dtype = match self.obj(items[1]) {
            Obj::Global(Global::StorageClass(d)) => *d,
            _ => return Err(shape_err()),
        };
        let (Obj::Str(key), Obj::Str(location), Obj::Int(numel)) =
            (self.obj(items[2]), self.obj(items[3]), self.obj(items[4]))
        else {
            return Err(shape_err());
        };
        if self.legacy && !matches!(self.obj(items[5]), Obj::None) {
            return Err(unsupported("legacy storage views (view_metadata) are not supported"));
        }
        if !(location == "cpu" || location == "cuda" || location.starts_with("cuda:")) {
            return Err(unsupported(format!(
                "storage location '{location}' is not supported (cpu or cuda)"
            )));
        }
        let numel = u64::try_from(*numel).map_err(|_| bad(format!("storage numel {numel} is negative")))?;
        let r = StorageRef {
            key: key.clone(),
            dtype,
            numel,
        };
        if r.nbytes().is_none() {
            return Err(bad(format!("storage '{key}' of {numel} elements overflows")));
        }
        if let Some(&i) = self.storage_keys.get(&r.key) {
            let known = &self.storages[i];
            if known.dtype != r.dtype || known.numel != r.numel {
                return Err(bad(format!(
                    "storage '{key}' is used as {} of {} elements and as {} of {} elements",
                    known.dtype.name(),
                    known.numel,
                    r.dtype.name(),
                    r.numel
                )));
            }
            return Ok(i);
        }
        self.storage_keys.insert(r.key.clone(), self.storages.len());
        self.storages.push(r);
        Ok(self.storages.len() - 1)
    }
}

/// Python's LONG1/LONG4 payload: little-endian two's complement.
fn decode_long(b: &[u8]) -> Result<i64> {
    if b.is_empty() {
        return Ok(0);
    }
    if b.len() > 8 {
        return Err(unsupported(format!(
            "integer of {} bytes does not fit in 64 bits",
            b.len()
        )));
    }
    let fill = if b[b.len() - 1] & 0x80 != 0 { 0xff } else { 0 };
    let mut a = [fill; 8];
    a[..b.len()].copy_from_slice(b);
    Ok(i64::from_le_bytes(a))
}

impl Pickled {
    /// The storages the pickle references, in order of first reference.
    pub fn storages(&self) -> &[StorageRef] {
        &self.storages
    }

    /// Builds the [`Value`]; `resolve` supplies each storage's bytes (called
    /// once per storage, only for storages a tensor uses).
    pub fn to_value(&self, resolve: &mut dyn FnMut(&StorageRef) -> Result<Storage>) -> Result<Value> {
        let mut b = Builder {
            p: self,
            resolve,
            storages: HashMap::new(),
            tensors: HashMap::new(),
            active: HashSet::new(),
            budget: self.input_len.saturating_mul(4).saturating_add(1 << 16),
        };
        b.value(self.root, 0)
    }
}

struct Builder<'p, 'r> {
    p: &'p Pickled,
    resolve: &'r mut dyn FnMut(&StorageRef) -> Result<Storage>,
    storages: HashMap<usize, Storage>,
    tensors: HashMap<Id, Tensor>,
    active: HashSet<Id>,
    budget: usize,
}

impl Builder<'_, '_> {
    fn tensor(&mut self, id: Id, spec: &TensorSpec) -> Result<Tensor> {
        if let Some(t) = self.tensors.get(&id) {
            return Ok(t.clone());
        }
        let info = self
            .p
            .storages
            .get(spec.storage)
            .ok_or_else(|| bad("tensor refers to an unknown storage"))?;
        let storage = match self.storages.get(&spec.storage) {
            Some(s) => s.clone(),
            None => {
                let s = (self.resolve)(info)?;
                if Some(s.nbytes() as u64) != info.nbytes() {
                    return Err(bad(format!(
                        "storage '{}' has {} bytes but its {} elements of {} need {:?}",
                        info.key,
                        s.nbytes(),
                        info.numel,
                        info.dtype.name(),
                        info.nbytes()
                    )));
                }
                self.storages.insert(spec.storage, s.clone());
                s
            }
        };
        let t = Tensor::from_storage(storage, &spec.sizes, &spec.strides, spec.offset, info.dtype)
            .map_err(|e| bad(e.message().to_string()))?;
        if spec.requires_grad {
            t.requires_grad_(true).map_err(|e| bad(e.message().to_string()))?;
        }
        self.tensors.insert(id, t.clone());
        Ok(t)
    }

    /// Charges `units` (one per object, one per string or bytes byte) to the budget.
    fn spend(&mut self, units: usize) -> Result<()> {
        self.budget = self
            .budget
            .checked_sub(units)
            .ok_or_else(|| bad("pickle expands to too many objects (shared references repeated too often)"))?;
        Ok(())
    }

    fn value(&mut self, id: Id, depth: usize) -> Result<Value> {
        if depth > MAX_DEPTH {
            return Err(bad(format!("objects nested deeper than {MAX_DEPTH} levels")));
        }
        let size = match self.p.objs.get(id) {
            Some(Obj::Str(s)) => s.len(),
            Some(Obj::Bytes(b)) => b.len(),
            _ => 0,
        };
        self.spend(1 + size)?;
        let obj = self.p.objs.get(id).ok_or_else(|| bad("dangling object reference"))?;
        let container = matches!(obj, Obj::List(_) | Obj::Tuple(_) | Obj::Dict(_));
        if container && !self.active.insert(id) {
            return Err(bad(
                "recursive structure (a container that contains itself) is not supported",
            ));
        }
        let v = match obj {
            Obj::None => Value::None,
            Obj::Bool(b) => Value::Bool(*b),
            Obj::Int(i) => Value::Int(*i),
            Obj::Float(f) => Value::Float(*f),
            Obj::Str(s) => Value::Str(s.clone()),
            Obj::Bytes(b) => Value::Bytes(b.clone()),
            Obj::List(items) => Value::List(self.values(items, depth)?),
            Obj::Tuple(items) => Value::Tuple(self.values(items, depth)?),
            Obj::Dict(d) => {
                let mut items = Vec::with_capacity(d.items.len());
                for &(k, v) in &d.items {
                    items.push((self.value(k, depth + 1)?, self.value(v, depth + 1)?));
                }
                if d.ordered {
                    let mut attrs = vec![];
                    if let Some(Obj::Dict(state)) = d.state.and_then(|i| self.p.objs.get(i)) {
                        for &(k, v) in &state.items {
                            let Some(Obj::Str(name)) = self.p.objs.get(k) else {
                                return Err(bad("BUILD state keys must be str"));
                            };
                            self.spend(name.len())?;
                            attrs.push((name.clone(), self.value(v, depth + 1)?));
                        }
                    }
                    Value::OrderedDict { items, attrs }
                } else {
                    Value::Dict(items)
                }
            }
            Obj::Tensor(spec) => Value::Tensor(self.tensor(id, spec)?),
            Obj::Parameter { data, requires_grad } => {
                let Some(Obj::Tensor(spec)) = self.p.objs.get(*data) else {
                    return Err(bad("a Parameter's data must be a Tensor"));
                };
                Value::Parameter {
                    data: self.tensor(*data, spec)?,
                    requires_grad: *requires_grad,
                }
            }
            Obj::Global(_) | Obj::Storage(_) => {
                return Err(unsupported(format!(
                    "a bare {} in the loaded object is not supported (only tensors that view storages)",
                    obj.kind()
                )))
            }
        };
        if container {
            self.active.remove(&id);
        }
        Ok(v)
    }

    fn values(&mut self, items: &[Id], depth: usize) -> Result<Vec<Value>> {
        items.iter().map(|&i| self.value(i, depth + 1)).collect()
    }
}
