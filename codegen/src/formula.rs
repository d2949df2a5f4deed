//! The derivative-formula language: Python-like expressions over the
//! generated API (`grad * other`, `sum_backward(grad, self.sizes(), dim, keepdim)`,
//! `-grad / (other * other)`, `grads[0]`, `2.0 * self`).

use std::fmt;

/// A formula expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A name: an input, `grad`, `result`.
    Name(String),
    /// An integer literal.
    Int(i64),
    /// A float literal.
    Float(f64),
    /// `True` / `False`.
    Bool(bool),
    /// `grads[i]`
    Grads(usize),
    /// `-x`
    Neg(Box<Expr>),
    /// `a op b` with op in `+ - * /`.
    Binary(char, Box<Expr>, Box<Expr>),
    /// `f(args)`
    Call(String, Vec<Expr>),
    /// `x.f(args)`
    Method(Box<Expr>, String, Vec<Expr>),
}

/// A formula parse error.
#[derive(Debug, Clone, PartialEq)]
pub struct FormulaError(pub String);

impl fmt::Display for FormulaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Int(i64),
    Float(f64),
    Punct(char),
}

fn tokenize(s: &str) -> Result<Vec<Tok>, FormulaError> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let st = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(chars[st..i].iter().collect()));
        } else if c.is_ascii_digit() {
            let st = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.' || chars[i] == 'e') {
                i += 1;
            }
            let text: String = chars[st..i].iter().collect();
            if text.contains('.') || text.contains('e') {
                out.push(Tok::Float(
                    text.parse().map_err(|_| FormulaError(format!("bad number `{text}`")))?,
                ));
            } else {
                out.push(Tok::Int(
                    text.parse().map_err(|_| FormulaError(format!("bad number `{text}`")))?,
                ));
            }
        } else if "+-*/(),.[]".contains(c) {
            out.push(Tok::Punct(c));
            i += 1;
        } else {
            return Err(FormulaError(format!("unexpected character `{c}`")));
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Punct(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, c: char) -> Result<(), FormulaError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(FormulaError(format!("expected `{c}` at token {}", self.pos)))
        }
    }
    fn expr(&mut self) -> Result<Expr, FormulaError> {
        let mut lhs = self.term()?;
        loop {
            let op = if self.eat('+') {
                '+'
            } else if self.eat('-') {
                '-'
            } else {
                return Ok(lhs);
            };
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(self.term()?));
        }
    }
    fn term(&mut self) -> Result<Expr, FormulaError> {
        let mut lhs = self.unary()?;
        loop {
            let op = if self.eat('*') {
                '*'
            } else if self.eat('/') {
                '/'
            } else {
                return Ok(lhs);
            };
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(self.unary()?));
        }
    }
    fn unary(&mut self) -> Result<Expr, FormulaError> {
        if self.eat('-') {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        self.postfix()
    }
    fn args(&mut self) -> Result<Vec<Expr>, FormulaError> {
        let mut args = Vec::new();
        if self.eat(')') {
            return Ok(args);
        }
        loop {
            args.push(self.expr()?);
            if self.eat(')') {
                return Ok(args);
            }
            self.expect(',')?;
        }
    }
    fn postfix(&mut self) -> Result<Expr, FormulaError> {
        let mut e = self.primary()?;
        while self.eat('.') {
            let Some(Tok::Ident(m)) = self.peek().cloned() else {
                return Err(FormulaError("expected a method name after `.`".into()));
            };
            self.pos += 1;
            self.expect('(')?;
            let args = self.args()?;
            e = Expr::Method(Box::new(e), m, args);
        }
        Ok(e)
    }
    fn primary(&mut self) -> Result<Expr, FormulaError> {
        match self.peek().cloned() {
            Some(Tok::Int(i)) => {
                self.pos += 1;
                Ok(Expr::Int(i))
            }
            Some(Tok::Float(f)) => {
                self.pos += 1;
                Ok(Expr::Float(f))
            }
            Some(Tok::Punct('(')) => {
                self.pos += 1;
                let e = self.expr()?;
                self.expect(')')?;
                Ok(e)
            }
            Some(Tok::Ident(name)) => {
                self.pos += 1;
                match name.as_str() {
                    "True" => return Ok(Expr::Bool(true)),
                    "False" => return Ok(Expr::Bool(false)),
                    _ => {}
                }
                if name == "grads" && self.eat('[') {
                    let Some(Tok::Int(i)) = self.peek().cloned() else {
                        return Err(FormulaError("expected an index in grads[...]".into()));
                    };
                    self.pos += 1;
                    self.expect(']')?;
                    return Ok(Expr::Grads(i as usize));
                }
                if self.eat('(') {
                    return Ok(Expr::Call(name, self.args()?));
                }
                Ok(Expr::Name(name))
            }
            other => Err(FormulaError(format!("unexpected token {other:?}"))),
        }
    }
}

/// Parses a formula.
///
/// ```
/// use ft_codegen::formula::{parse, Expr};
/// let e = parse("-grad * other").unwrap();
/// assert!(matches!(e, Expr::Binary('*', _, _)));
/// assert!(parse("grad *").is_err());
/// ```
pub fn parse(s: &str) -> Result<Expr, FormulaError> {
    let mut p = Parser {
        toks: tokenize(s)?,
        pos: 0,
    };
    let e = p.expr()?;
    if p.pos != p.toks.len() {
        return Err(FormulaError(format!("unexpected trailing input in `{s}`")));
    }
    Ok(e)
}

impl Expr {
    /// Visits every sub-expression, parents first.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Expr)) {
        f(self);
        match self {
            Expr::Neg(e) => e.walk(f),
            Expr::Binary(_, a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Expr::Call(_, args) => args.iter().for_each(|a| a.walk(f)),
            Expr::Method(r, _, args) => {
                r.walk(f);
                args.iter().for_each(|a| a.walk(f));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence() {
        let e = parse("a - b * c / d").unwrap();
        let Expr::Binary('-', _, rhs) = e else { panic!() };
        assert!(matches!(*rhs, Expr::Binary('/', _, _)));
    }

    #[test]
    fn calls_methods_and_grads() {
        let e = parse("sum_backward(grads[1], self.sizes(), dim, keepdim)").unwrap();
        let Expr::Call(name, args) = e else { panic!() };
        assert_eq!(name, "sum_backward");
        assert_eq!(args[0], Expr::Grads(1));
        assert!(matches!(&args[1], Expr::Method(_, m, a) if m == "sizes" && a.is_empty()));
        assert_eq!(parse("2.5").unwrap(), Expr::Float(2.5));
    }
}
