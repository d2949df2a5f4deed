//! `#[derive(Module)]` for FrankenTorch: implements `frankentorch::nn::Module`
//! for a struct with named fields, from attributes on those fields.
//!
//! - `#[param]` — a parameter (`Tensor` or `Option<Tensor>`; `None` is skipped
//!   like a `None` parameter in torch);
//! - `#[buffer]` / `#[buffer(persistent = false)]` — a buffer (`Tensor` or
//!   `Option<Tensor>`); non-persistent buffers stay out of the state dict;
//! - `#[module]` — a child module (any `Module`, or `Option<M>`);
//! - `#[training]` — the `bool` holding this module's training flag (required).
//!
//! The field name is the torch attribute name (`weight`, `features`), and
//! fields register in declaration order. Unmarked fields are ignored. See
//! `frankentorch::nn::Module` for a runnable example.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as Tokens};
use quote::quote;
use syn::{parse_macro_input, spanned::Spanned, Data, DeriveInput, Fields, Type};

/// Derives `frankentorch::nn::Module`; see the crate documentation.
#[proc_macro_derive(Module, attributes(param, buffer, module, training))]
pub fn derive_module(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(t) => t.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

enum Kind {
    Param,
    Buffer { persistent: bool },
    Module,
    Training,
}

/// The one field-kind attribute on a field, if any.
fn kind_of(field: &syn::Field) -> syn::Result<Option<Kind>> {
    let mut found: Option<Kind> = None;
    for attr in &field.attrs {
        let path = attr.path();
        let kind = if path.is_ident("param") {
            attr.meta.require_path_only()?;
            Kind::Param
        } else if path.is_ident("module") {
            attr.meta.require_path_only()?;
            Kind::Module
        } else if path.is_ident("training") {
            attr.meta.require_path_only()?;
            Kind::Training
        } else if path.is_ident("buffer") {
            let mut persistent = true;
            if !matches!(attr.meta, syn::Meta::Path(_)) {
                attr.parse_nested_meta(|meta| {
                    if meta.path.is_ident("persistent") {
                        let lit: syn::LitBool = meta.value()?.parse()?;
                        persistent = lit.value;
                        Ok(())
                    } else {
                        Err(meta.error("#[buffer] takes only `persistent = true|false`"))
                    }
                })?;
            }
            Kind::Buffer { persistent }
        } else {
            continue;
        };
        if found.is_some() {
            return Err(syn::Error::new(
                attr.span(),
                "a field can be only one of #[param], #[buffer], #[module], #[training]",
            ));
        }
        found = Some(kind);
    }
    Ok(found)
}

/// Whether `ty` is written `Option<…>`.
fn is_option(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Option"),
        _ => false,
    }
}

fn expand(input: &DeriveInput) -> syn::Result<Tokens> {
    let name = &input.ident;
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new(
            Span::call_site(),
            "#[derive(Module)] needs a struct with named fields",
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new(
            data.fields.span(),
            "#[derive(Module)] needs a struct with named fields",
        ));
    };
    let nn = quote!(::frankentorch::nn);
    let (mut params, mut buffers, mut tensors_mut) = (vec![], vec![], vec![]);
    let (mut children, mut children_mut) = (vec![], vec![]);
    let mut training: Option<syn::Ident> = None;
    for field in &fields.named {
        let Some(kind) = kind_of(field)? else { continue };
        let ident = field.ident.clone().expect("named field");
        let key = ident.to_string();
        match kind {
            Kind::Param => {
                params.push(quote!(f(#key, #nn::TensorField::get(&self.#ident));));
                tensors_mut.push(quote!(if let Some(t) = #nn::TensorField::get_mut(&mut self.#ident) { f(#key, t); }));
            }
            Kind::Buffer { persistent } => {
                buffers.push(quote!(f(#key, #nn::TensorField::get(&self.#ident), #persistent);));
                tensors_mut.push(quote!(if let Some(t) = #nn::TensorField::get_mut(&mut self.#ident) { f(#key, t); }));
            }
            Kind::Module if is_option(&field.ty) => {
                children.push(quote!(if let Some(m) = &self.#ident { f(#key, m); }));
                children_mut.push(quote!(if let Some(m) = &mut self.#ident { f(#key, m); }));
            }
            Kind::Module => {
                children.push(quote!(f(#key, &self.#ident);));
                children_mut.push(quote!(f(#key, &mut self.#ident);));
            }
            Kind::Training => {
                if let Some(first) = &training {
                    return Err(syn::Error::new(
                        ident.span(),
                        format!("#[training] is already on field `{first}`; a module has one training flag"),
                    ));
                }
                let is_bool = matches!(&field.ty, Type::Path(p) if p.path.is_ident("bool"));
                if !is_bool {
                    return Err(syn::Error::new(
                        field.ty.span(),
                        "the #[training] field must be a `bool`",
                    ));
                }
                training = Some(ident);
            }
        }
    }
    let Some(training) = training else {
        return Err(syn::Error::new(
            Span::call_site(),
            "#[derive(Module)] needs a `bool` field marked #[training] (torch's `self.training`)",
        ));
    };
    let type_name = name.to_string();
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics #nn::Module for #name #ty_generics #where_clause {
            fn type_name(&self) -> &str { #type_name }
            fn training(&self) -> bool { self.#training }
            fn set_training(&mut self, mode: bool) { self.#training = mode; }
            #[allow(unused_variables)]
            fn visit_parameters<'a>(&'a self, f: &mut dyn FnMut(&str, Option<&'a ::frankentorch::Tensor>)) {
                #(#params)*
            }
            #[allow(unused_variables)]
            fn visit_buffers<'a>(&'a self, f: &mut dyn FnMut(&str, Option<&'a ::frankentorch::Tensor>, bool)) {
                #(#buffers)*
            }
            #[allow(unused_variables)]
            fn visit_children<'a>(&'a self, f: &mut dyn FnMut(&str, &'a dyn #nn::Module)) {
                #(#children)*
            }
            #[allow(unused_variables)]
            fn visit_tensors_mut(&mut self, f: &mut dyn FnMut(&str, &mut ::frankentorch::Tensor)) {
                #(#tensors_mut)*
            }
            #[allow(unused_variables)]
            fn visit_children_mut(&mut self, f: &mut dyn FnMut(&str, &mut dyn #nn::Module)) {
                #(#children_mut)*
            }
        }
    })
}
