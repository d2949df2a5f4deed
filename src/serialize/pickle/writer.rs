//! Pickles a [`Value`] with protocol 2 and the opcode choices of CPython's C
//! pickler as `torch.save` drives it: `GLOBAL`s and strings memoized
//! (`BINPUT`/`LONG_BINPUT`, reused with `BINGET`), lists and dicts filled in
//! `MARK … APPENDS/SETITEMS` batches of 1000, tensors reduced through
//! `torch._utils._rebuild_tensor_v2` with a persistent id
//! `('storage', torch.<T>Storage, key, 'cpu', numel)` per distinct storage.

use super::{op, storage_class};
use crate::serialize::Value;
use crate::{DType, Error, Result, Storage, Tensor};
use std::collections::HashMap;

/// Python's pickler batch size.
const BATCH: usize = 1000;
/// Nesting deeper than this is refused (Python's default recursion limit).
const MAX_DEPTH: usize = 1000;

/// A storage referenced by a pickle: its key (`data/<key>` in the archive),
/// bytes and dtype.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::serialize::{pickle::writer, Value};
/// # fn main() -> frankentorch::Result<()> {
/// let t = ops::ones(&[2, 2])?;
/// let v = Value::List(vec![Value::Tensor(t.clone()), Value::Tensor(t.t()?)]);
/// let (_, storages) = writer::dumps(&v)?;
/// assert_eq!(storages.len(), 1); // a view shares its base's storage
/// assert_eq!(storages[0].key, "0");
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct PickledStorage {
    /// The storage key (`"0"`, `"1"`, … in order of first appearance).
    pub key: String,
    /// The storage.
    pub storage: Storage,
    /// The dtype its tensors view it as.
    pub dtype: DType,
}

fn err(message: impl Into<String>) -> Error {
    Error::invalid("torch.save", message)
}

struct Pickler {
    out: Vec<u8>,
    next_memo: u32,
    strings: HashMap<String, u32>,
    pid_strings: HashMap<String, u32>,
    globals: HashMap<(&'static str, &'static str), u32>,
    tensors: HashMap<usize, (Tensor, u32)>,
    storage_index: HashMap<usize, Vec<usize>>,
    storages: Vec<PickledStorage>,
}

/// Pickles `value` (protocol 2); returns the bytes and the storages its
/// tensors reference, in key order.
pub fn dumps(value: &Value) -> Result<(Vec<u8>, Vec<PickledStorage>)> {
    let mut p = Pickler {
        out: vec![op::PROTO, 2],
        next_memo: 0,
        strings: HashMap::new(),
        pid_strings: HashMap::new(),
        globals: HashMap::new(),
        tensors: HashMap::new(),
        storage_index: HashMap::new(),
        storages: vec![],
    };
    p.save(value, 0)?;
    p.out.push(op::STOP);
    Ok((p.out, p.storages))
}

impl Pickler {
    fn memoize(&mut self) -> u32 {
        let i = self.next_memo;
        self.next_memo += 1;
        if i < 256 {
            self.out.extend_from_slice(&[op::BINPUT, i as u8]);
        } else {
            self.out.push(op::LONG_BINPUT);
            self.out.extend_from_slice(&i.to_le_bytes());
        }
        i
    }

    fn get(&mut self, i: u32) {
        if i < 256 {
            self.out.extend_from_slice(&[op::BINGET, i as u8]);
        } else {
            self.out.push(op::LONG_BINGET);
            self.out.extend_from_slice(&i.to_le_bytes());
        }
    }

    fn global(&mut self, module: &'static str, name: &'static str) {
        if let Some(&i) = self.globals.get(&(module, name)) {
            return self.get(i);
        }
        self.out.push(op::GLOBAL);
        self.out.extend_from_slice(module.as_bytes());
        self.out.push(b'\n');
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(b'\n');
        let i = self.memoize();
        self.globals.insert((module, name), i);
    }

    fn int(&mut self, v: i64) {
        if (0..0x100).contains(&v) {
            self.out.extend_from_slice(&[op::BININT1, v as u8]);
        } else if (0..0x10000).contains(&v) {
            self.out.push(op::BININT2);
            self.out.extend_from_slice(&(v as u16).to_le_bytes());
        } else if i32::try_from(v).is_ok() {
            self.out.push(op::BININT);
            self.out.extend_from_slice(&(v as i32).to_le_bytes());
        } else {
            // LONG1 with the shortest little-endian two's complement.
            let mut bytes = v.to_le_bytes().to_vec();
            while bytes.len() > 1 {
                let (last, prev) = (bytes[bytes.len() - 1], bytes[bytes.len() - 2]);
                if (last == 0 && prev & 0x80 == 0) || (last == 0xff && prev & 0x80 != 0) {
                    bytes.pop();
                } else {
                    break;
                }
            }
            self.out.extend_from_slice(&[op::LONG1, bytes.len() as u8]);
            self.out.extend_from_slice(&bytes);
        }
    }

    /// A user string, memoized by content (Python shares equal identifier-like
    /// literals, which is what state dict keys are).
    fn string(&mut self, s: &str) {
        self.string_in(s, false)
    }

    /// `pid`: the strings of persistent ids ('storage', keys, 'cpu'), which
    /// torch shares among persistent ids only.
    fn string_in(&mut self, s: &str, pid: bool) {
        let known = if pid { &self.pid_strings } else { &self.strings };
        if let Some(&i) = known.get(s) {
            return self.get(i);
        }
        self.out.push(op::BINUNICODE);
        self.out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        self.out.extend_from_slice(s.as_bytes());
        let i = self.memoize();
        let known = if pid { &mut self.pid_strings } else { &mut self.strings };
        known.insert(s.to_string(), i);
    }

    fn tuple(&mut self, items: &[Value], depth: usize) -> Result<()> {
        if items.is_empty() {
            self.out.push(op::EMPTY_TUPLE);
            return Ok(());
        }
        if items.len() > 3 {
            self.out.push(op::MARK);
        }
        for v in items {
            self.save(v, depth + 1)?;
        }
        self.out.push(match items.len() {
            1 => op::TUPLE1,
            2 => op::TUPLE2,
            3 => op::TUPLE3,
            _ => op::TUPLE,
        });
        self.memoize();
        Ok(())
    }

    fn int_tuple(&mut self, items: &[usize]) -> Result<()> {
        let vals = items
            .iter()
            .map(|&x| i64::try_from(x).map(Value::Int).map_err(|_| err("size too large")))
            .collect::<Result<Vec<_>>>()?;
        self.tuple(&vals, 0)
    }

    /// `MARK k v … SETITEMS` batches as the C pickler writes them for an exact
    /// `dict` (`exact`) or through an items iterator (`OrderedDict`).
    fn setitems(&mut self, items: &[(Value, Value)], exact: bool, depth: usize) -> Result<()> {
        if items.len() == 1 || (!exact && items.len() % BATCH == 1) {
            let (head, last) = items.split_at(items.len() - 1);
            self.setitems(head, exact, depth)?;
            self.save(&last[0].0, depth + 1)?;
            self.save(&last[0].1, depth + 1)?;
            self.out.push(op::SETITEM);
            return Ok(());
        }
        for chunk in items.chunks(BATCH) {
            self.out.push(op::MARK);
            for (k, v) in chunk {
                self.save(k, depth + 1)?;
                self.save(v, depth + 1)?;
            }
            self.out.push(op::SETITEMS);
        }
        Ok(())
    }

    fn appends(&mut self, items: &[Value], depth: usize) -> Result<()> {
        if items.len() == 1 {
            self.save(&items[0], depth + 1)?;
            self.out.push(op::APPEND);
            return Ok(());
        }
        for chunk in items.chunks(BATCH) {
            self.out.push(op::MARK);
            for v in chunk {
                self.save(v, depth + 1)?;
            }
            self.out.push(op::APPENDS);
        }
        Ok(())
    }

    fn empty_ordered_dict(&mut self) {
        self.global("collections", "OrderedDict");
        self.out.extend_from_slice(&[op::EMPTY_TUPLE, op::REDUCE]);
        self.memoize();
    }

    /// The storage key of `t`'s storage, registering it on first sight.
    fn storage_key(&mut self, t: &Tensor) -> Result<(String, usize)> {
        let s = t.storage();
        let dtype = t.dtype();
        let candidates = self.storage_index.entry(s.data_addr()).or_default();
        if let Some(&i) = candidates.iter().find(|&&i| self.storages[i].storage.is_same(s)) {
            let known = &self.storages[i];
            if known.dtype != dtype {
                return Err(err(
                    "Cannot save multiple tensors or storages that view the same data as different types",
                ));
            }
            return Ok((known.key.clone(), known.storage.nbytes() / dtype.itemsize()));
        }
        if !s.nbytes().is_multiple_of(dtype.itemsize()) {
            return Err(err(format!(
                "storage of {} bytes is not a whole number of {} elements",
                s.nbytes(),
                dtype.name()
            )));
        }
        let key = self.storages.len().to_string();
        candidates.push(self.storages.len());
        self.storages.push(PickledStorage {
            key: key.clone(),
            storage: s.clone(),
            dtype,
        });
        Ok((key, s.nbytes() / dtype.itemsize()))
    }

    /// `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, OrderedDict())`.
    fn tensor(&mut self, t: &Tensor, requires_grad: bool) -> Result<()> {
        if let Some((_, i)) = self.tensors.get(&t.id()).filter(|(k, _)| k.is_same(t)) {
            let i = *i;
            self.get(i);
            return Ok(());
        }
        let (key, numel) = self.storage_key(t)?;
        self.global("torch._utils", "_rebuild_tensor_v2");
        self.out.push(op::MARK);
        self.out.push(op::MARK);
        self.string_in("storage", true);
        self.global("torch", storage_class(t.dtype()));
        self.string_in(&key, true);
        self.string_in("cpu", true);
        self.int(i64::try_from(numel).map_err(|_| err("storage too large"))?);
        self.out.push(op::TUPLE);
        self.memoize();
        self.out.push(op::BINPERSID);
        self.int(i64::try_from(t.storage_offset()).map_err(|_| err("storage offset too large"))?);
        self.int_tuple(t.sizes())?;
        self.int_tuple(t.strides())?;
        self.out.push(if requires_grad { op::NEWTRUE } else { op::NEWFALSE });
        self.empty_ordered_dict();
        self.out.push(op::TUPLE);
        self.memoize();
        self.out.push(op::REDUCE);
        let i = self.memoize();
        self.tensors.insert(t.id(), (t.clone(), i));
        Ok(())
    }

    fn save(&mut self, v: &Value, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(err(format!("objects nested deeper than {MAX_DEPTH} levels")));
        }
        match v {
            Value::None => self.out.push(op::NONE),
            Value::Bool(b) => self.out.push(if *b { op::NEWTRUE } else { op::NEWFALSE }),
            Value::Int(i) => self.int(*i),
            Value::Float(f) => {
                self.out.push(op::BINFLOAT);
                self.out.extend_from_slice(&f.to_be_bytes());
            }
            Value::Str(s) => self.string(s),
            Value::Bytes(b) => {
                // Protocol 2 spells bytes as _codecs.encode(latin-1 text, 'latin1').
                self.global("_codecs", "encode");
                let text: String = b.iter().map(|&c| char::from(c)).collect();
                self.out.push(op::BINUNICODE);
                self.out.extend_from_slice(&(text.len() as u32).to_le_bytes());
                self.out.extend_from_slice(text.as_bytes());
                self.memoize();
                self.string("latin1");
                self.out.push(op::TUPLE2);
                self.memoize();
                self.out.push(op::REDUCE);
                self.memoize();
            }
            Value::List(items) => {
                self.out.push(op::EMPTY_LIST);
                self.memoize();
                self.appends(items, depth)?;
            }
            Value::Tuple(items) => self.tuple(items, depth)?,
            Value::Dict(items) => {
                self.out.push(op::EMPTY_DICT);
                self.memoize();
                self.setitems(items, true, depth)?;
            }
            Value::OrderedDict { items, attrs } => {
                self.empty_ordered_dict();
                self.setitems(items, false, depth)?;
                if !attrs.is_empty() {
                    let state: Vec<(Value, Value)> =
                        attrs.iter().map(|(k, v)| (Value::Str(k.clone()), v.clone())).collect();
                    self.out.push(op::EMPTY_DICT);
                    self.memoize();
                    self.setitems(&state, true, depth)?;
                    self.out.push(op::BUILD);
                }
            }
            Value::Tensor(t) => self.tensor(t, t.requires_grad())?,
            Value::Parameter { data, requires_grad } => {
                self.global("torch._utils", "_rebuild_parameter");
                self.tensor(data, false)?;
                self.out.push(if *requires_grad { op::NEWTRUE } else { op::NEWFALSE });
                self.empty_ordered_dict();
                self.out.push(op::TUPLE3);
                self.memoize();
                self.out.push(op::REDUCE);
                self.memoize();
            }
        }
        Ok(())
    }
}
