//! Parser for PyTorch's function-schema syntax:
//! `name.overload(Type name=default, *, Type(a!) out) -> (Tensor values, Tensor indices)`.

use std::fmt;

/// A parse error with the offending text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureError(pub String);

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The base types the schema language knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseType {
    /// `Tensor`
    Tensor,
    /// `Scalar`
    Scalar,
    /// `int` / `SymInt`
    Int,
    /// `float`
    Float,
    /// `bool`
    Bool,
    /// `str`
    Str,
    /// `ScalarType`
    ScalarType,
    /// `Layout`
    Layout,
    /// `Device`
    Device,
    /// `MemoryFormat`
    MemoryFormat,
    /// `Generator` (only as `Generator?`)
    Generator,
}

impl BaseType {
    fn parse(s: &str) -> Option<BaseType> {
        Some(match s {
            "Tensor" => BaseType::Tensor,
            "Scalar" => BaseType::Scalar,
            "int" | "SymInt" => BaseType::Int,
            "float" => BaseType::Float,
            "bool" => BaseType::Bool,
            "str" => BaseType::Str,
            "ScalarType" => BaseType::ScalarType,
            "Layout" => BaseType::Layout,
            "Device" => BaseType::Device,
            "MemoryFormat" => BaseType::MemoryFormat,
            "Generator" => BaseType::Generator,
            _ => return None,
        })
    }
}

/// An alias annotation: `(a)` or `(a!)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    /// The alias set name (`a`).
    pub set: String,
    /// True with `!`: the value is written.
    pub write: bool,
}

/// A full type: base, optional `?`, list `[]`/`[N]`, element optionality (`Tensor?[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Type {
    /// The element type.
    pub base: BaseType,
    /// `?` on the element (`Tensor?[]`) or on a non-list type.
    pub elem_optional: bool,
    /// `Some(n)` for a list (`n` = fixed length, 0 if unsized).
    pub list: Option<u8>,
    /// `?` after a list (`int[]?`).
    pub list_optional: bool,
    /// Alias annotation.
    pub alias: Option<Alias>,
}

impl Type {
    /// True if `None` is accepted.
    pub fn is_optional(&self) -> bool {
        if self.list.is_some() {
            self.list_optional
        } else {
            self.elem_optional
        }
    }
    /// True for a plain or optional single Tensor.
    pub fn is_tensor_like(&self) -> bool {
        self.base == BaseType::Tensor
    }
}

/// One argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgDecl {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: Type,
    /// Default value text as written.
    pub default: Option<String>,
    /// After `*`.
    pub kwarg_only: bool,
}

/// One return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetDecl {
    /// Return name, empty when unnamed.
    pub name: String,
    /// Its type.
    pub ty: Type,
}

/// A parsed schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// Operator name without namespace (`add`, `add_`).
    pub name: String,
    /// Overload name (may be empty).
    pub overload: String,
    /// Arguments.
    pub args: Vec<ArgDecl>,
    /// Returns.
    pub returns: Vec<RetDecl>,
}

impl Signature {
    /// `name.overload` or `name`.
    pub fn qualified(&self) -> String {
        if self.overload.is_empty() {
            self.name.clone()
        } else {
            format!("{}.{}", self.name, self.overload)
        }
    }
    /// True for in-place ops (`foo_` with a written `self`).
    pub fn is_inplace(&self) -> bool {
        self.name.ends_with('_')
            && self
                .args
                .first()
                .is_some_and(|a| a.ty.alias.as_ref().is_some_and(|al| al.write))
    }
    /// True for ops with a written argument (in-place or out=).
    pub fn mutates(&self) -> bool {
        self.args.iter().any(|a| a.ty.alias.as_ref().is_some_and(|al| al.write))
    }
    /// True for view ops: a non-written alias annotation on the first return.
    pub fn is_view(&self) -> bool {
        self.returns
            .first()
            .is_some_and(|r| r.ty.alias.as_ref().is_some_and(|al| !al.write))
    }
}

fn parse_type(text: &str) -> Result<Type, SignatureError> {
    let err = || SignatureError(format!("unknown type `{text}`"));
    let mut s = text.trim();
    let mut list_optional = false;
    if s.ends_with("]?") {
        list_optional = true;
        s = &s[..s.len() - 1];
    }
    let mut list = None;
    if s.ends_with(']') {
        let open = s.rfind('[').ok_or_else(err)?;
        let n = &s[open + 1..s.len() - 1];
        list = Some(if n.is_empty() {
            0
        } else {
            n.parse::<u8>().map_err(|_| err())?
        });
        s = &s[..open];
    }
    let mut elem_optional = false;
    if let Some(stripped) = s.strip_suffix('?') {
        elem_optional = true;
        s = stripped;
    }
    let mut alias = None;
    if let Some(open) = s.find('(') {
        let inner = s[open + 1..].strip_suffix(')').ok_or_else(err)?;
        // `Tensor(a -> *)`: aliases set `a`, and its results alias a wildcard set
        // (`split`, `unbind`); only the input set matters here.
        let inner = inner.strip_suffix("-> *").map_or(inner, str::trim);
        let (set, write) = match inner.strip_suffix('!') {
            Some(set) => (set, true),
            None => (inner, false),
        };
        if set.is_empty() || !set.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(SignatureError(format!("bad alias annotation in `{text}`")));
        }
        alias = Some(Alias {
            set: set.to_string(),
            write,
        });
        s = &s[..open];
    } else if let Some(stripped) = s.strip_suffix('!') {
        alias = Some(Alias {
            set: "!".into(),
            write: true,
        });
        s = stripped;
    }
    let base = BaseType::parse(s).ok_or_else(err)?;
    if alias.is_some() && base != BaseType::Tensor {
        return Err(SignatureError(format!("alias annotation on non-Tensor type `{text}`")));
    }
    Ok(Type {
        base,
        elem_optional,
        list,
        list_optional,
        alias,
    })
}

/// Splits on commas at bracket depth 0.
fn split_top(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut depth, mut cur) = (0i32, String::new());
    for c in s.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            _ => {}
        }
        if c == ',' && depth == 0 {
            out.push(cur.trim().to_string());
            cur.clear();
        } else {
            cur.push(c);
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

fn check_ident(s: &str, what: &str) -> Result<(), SignatureError> {
    let ok = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(SignatureError(format!("invalid {what} `{s}`")))
    }
}

/// Parses one schema string.
///
/// ```
/// use ft_codegen::signature::parse;
/// let s = parse("add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor").unwrap();
/// assert_eq!(s.overload, "Tensor");
/// assert!(s.args[2].kwarg_only);
/// assert_eq!(s.args[2].default.as_deref(), Some("1"));
/// ```
pub fn parse(text: &str) -> Result<Signature, SignatureError> {
    let text = text.trim();
    let open = text
        .find('(')
        .ok_or_else(|| SignatureError(format!("missing `(` in `{text}`")))?;
    let arrow = text
        .rfind("->")
        .ok_or_else(|| SignatureError(format!("missing `->` in `{text}`")))?;
    let head = text[..open].trim();
    let close = text[..arrow]
        .rfind(')')
        .ok_or_else(|| SignatureError(format!("missing `)` in `{text}`")))?;
    let (name, overload) = match head.split_once('.') {
        Some((n, o)) => (n.to_string(), o.to_string()),
        None => (head.to_string(), String::new()),
    };
    check_ident(&name, "operator name")?;
    if !overload.is_empty() {
        check_ident(&overload, "overload name")?;
    }
    let mut args = Vec::new();
    let mut kwarg_only = false;
    for part in split_top(&text[open + 1..close]) {
        if part == "*" {
            kwarg_only = true;
            continue;
        }
        let (decl, default) = match part.split_once('=') {
            Some((d, v)) => (d.trim(), Some(v.trim().to_string())),
            None => (part.as_str(), None),
        };
        let space = decl
            .rfind(' ')
            .ok_or_else(|| SignatureError(format!("argument `{decl}` needs a type and a name")))?;
        let (ty, arg_name) = (parse_type(&decl[..space])?, decl[space + 1..].trim().to_string());
        check_ident(&arg_name, "argument name")?;
        if args.iter().any(|a: &ArgDecl| a.name == arg_name) {
            return Err(SignatureError(format!("argument `{arg_name}` appears twice")));
        }
        args.push(ArgDecl {
            name: arg_name,
            ty,
            default,
            kwarg_only,
        });
    }
    let ret_text = text[arrow + 2..].trim();
    let ret_inner = if ret_text.starts_with('(') && ret_text.ends_with(')') {
        &ret_text[1..ret_text.len() - 1]
    } else {
        ret_text
    };
    let mut returns = Vec::new();
    for part in split_top(ret_inner) {
        let (ty, rname) = match part.rfind(' ') {
            Some(sp) if !part[..sp].trim().is_empty() && !part.ends_with(')') => {
                (parse_type(&part[..sp])?, part[sp + 1..].to_string())
            }
            _ => (parse_type(&part)?, String::new()),
        };
        returns.push(RetDecl { name: rname, ty });
    }
    Ok(Signature {
        name,
        overload,
        args,
        returns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_types_and_aliases() {
        let s =
            parse("sum.dim_IntList(Tensor self, int[1]? dim, bool keepdim=False, *, ScalarType? dtype=None) -> Tensor")
                .unwrap();
        assert_eq!(s.args[1].ty.list, Some(1));
        assert!(s.args[1].ty.list_optional);
        assert!(s.args[3].ty.elem_optional && s.args[3].kwarg_only);
        let v = parse("view(Tensor(a) self, SymInt[] size) -> Tensor(a)").unwrap();
        assert!(v.is_view());
        let i = parse("add_.Tensor(Tensor(a!) self, Tensor other, *, Scalar alpha=1) -> Tensor(a!)").unwrap();
        assert!(i.is_inplace() && !i.is_view());
        let m = parse("max.dim(Tensor self, int dim, bool keepdim=False) -> (Tensor values, Tensor indices)").unwrap();
        assert_eq!(m.returns.len(), 2);
        assert_eq!(m.returns[1].name, "indices");
        let l = parse("cat(Tensor[] tensors, int dim=0) -> Tensor").unwrap();
        assert_eq!(l.args[0].ty.list, Some(0));
        let u = parse("unbind.int(Tensor(a -> *) self, int dim=0) -> Tensor(a)[]").unwrap();
        assert_eq!(
            u.args[0].ty.alias.as_ref().map(|a| (a.set.as_str(), a.write)),
            Some(("a", false))
        );
        assert_eq!(u.returns[0].ty.list, Some(0));
        let o = parse("index.Tensor(Tensor self, Tensor?[] indices) -> Tensor").unwrap();
        assert!(o.args[1].ty.elem_optional && !o.args[1].ty.is_optional());
    }

    #[test]
    fn rejects_bad_input() {
        assert!(parse("add(Tensr self) -> Tensor").is_err());
        assert!(parse("add(Tensor self, Tensor self) -> Tensor").is_err());
        assert!(parse("add(Tensor self)").is_err());
        assert!(parse("add(int(a) x) -> Tensor").is_err());
    }
}
