//! XML as the country's e-government services exchange it: a small document
//! model read with `quick-xml` ([`Document::parse`]), exact canonicalisation
//! ([`c14n`]: inclusive C14N 1.0 with and without comments, exclusive C14N) and
//! enveloped XML signatures ([`dsig`]: RSA-SHA256/512 and the national GOST URIs).
//!
//! The model keeps what canonicalisation needs and nothing it must not: prefixes as
//! written, namespace declarations per element, attribute values normalised as XML
//! 1.0 says, character and predefined entity references resolved, line ends
//! normalised, CDATA as text. A document type declaration is refused: no
//! entity expansion, no external resources, whatever the input asks.

pub mod c14n;
pub mod dsig;

use quick_xml::events::Event;
use quick_xml::Reader;
use std::collections::{HashMap, HashSet};
use thiserror::Error;

/// The `xml` prefix's namespace, bound in every document.
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Documents larger than this are refused.
pub const MAX_XML_BYTES: usize = 64 * 1024 * 1024;

/// Elements nested deeper than this are refused.
const MAX_DEPTH: usize = 256;

/// Why a text is not an XML document this library reads.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum XmlError {
    /// Not well-formed, or not UTF-8.
    #[error("not well-formed XML: {0}")]
    Malformed(String),
    /// A DOCTYPE: entities and external subsets are not expanded here.
    #[error("a document type declaration (DOCTYPE) is not accepted")]
    Doctype,
    /// A prefix used without a declaration.
    #[error("the namespace prefix {0:?} is not declared")]
    UnboundPrefix(String),
    /// An entity other than the five predefined ones.
    #[error("the entity &{0}; is not defined")]
    UnknownEntity(String),
    /// Too large or too deep.
    #[error("the document is too large or too deeply nested")]
    TooLarge,
}

/// A node inside an element (or before and after the document element).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// An element.
    Element(Element),
    /// Character data (references resolved, CDATA included).
    Text(String),
    /// A comment's text.
    Comment(String),
    /// A processing instruction.
    Pi {
        /// Its target.
        target: String,
        /// Its data, leading white space removed.
        data: String,
    },
}

/// A name as written: `prefix:local`, and the namespace it resolves to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Name {
    /// The prefix, if any.
    pub prefix: Option<String>,
    /// The local part.
    pub local: String,
    /// The namespace URI (`None`: no namespace).
    pub namespace: Option<String>,
}

impl Name {
    /// `prefix:local` or `local`.
    pub(crate) fn qualified(&self) -> String {
        match &self.prefix {
            Some(p) => format!("{p}:{}", self.local),
            None => self.local.clone(),
        }
    }

    /// Whether this is `local` in namespace `ns`.
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.local == local && self.namespace.as_deref() == Some(ns)
    }
}

/// An attribute (not a namespace declaration).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    /// Its name.
    pub name: Name,
    /// Its normalised value.
    pub value: String,
}

/// An element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Element {
    /// Its name.
    pub name: Name,
    /// Namespace declarations made on it: prefix (`None` for the default) and URI
    /// (empty: the default namespace undeclared).
    pub declarations: Vec<(Option<String>, String)>,
    /// Its attributes, in document order.
    pub attributes: Vec<Attribute>,
    /// Its children.
    pub children: Vec<Node>,
}

impl Element {
    /// The value of the attribute `local` in no namespace.
    pub fn attribute(&self, local: &str) -> Option<&str> {
        self.attributes.iter().find(|a| a.name.local == local && a.name.namespace.is_none()).map(|a| a.value.as_str())
    }

    /// Child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    /// The first child element `local` in namespace `ns`.
    pub fn child(&self, ns: &str, local: &str) -> Option<&Element> {
        self.elements().find(|e| e.name.is(ns, local))
    }

    /// The concatenated text of its text children.
    pub fn text(&self) -> String {
        self.children
            .iter()
            .filter_map(|n| match n {
                Node::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    /// This element and its descendants, depth first, each with its ancestors
    /// (outermost first).
    pub fn walk<'a>(&'a self, ancestors: &mut Vec<&'a Element>, visit: &mut dyn FnMut(&'a Element, &[&'a Element])) {
        visit(self, ancestors);
        ancestors.push(self);
        for child in self.elements() {
            child.walk(ancestors, visit);
        }
        ancestors.pop();
    }
}

/// A parsed document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// Comments and processing instructions before the document element.
    pub before: Vec<Node>,
    /// The document element.
    pub root: Element,
    /// Comments and processing instructions after it.
    pub after: Vec<Node>,
    /// Where the document element's end tag starts in the input (its `/>` for an
    /// empty one): where an enveloped signature is inserted.
    pub root_end_offset: usize,
    /// Whether the document element was written empty (`<root/>`).
    pub root_was_empty: bool,
}

/// The namespaces in scope while parsing: for each prefix, its bindings, innermost
/// last, and the prefixes each open element declared, so that resolving a prefix
/// costs the same however many are in scope.
#[derive(Default)]
struct Scopes {
    bindings: HashMap<Option<String>, Vec<String>>,
    declared: Vec<Vec<Option<String>>>,
}

impl Scopes {
    /// Enter an element that declares `declarations`.
    fn push(&mut self, declarations: &[(Option<String>, String)]) {
        for (p, uri) in declarations {
            self.bindings.entry(p.clone()).or_default().push(uri.clone());
        }
        self.declared.push(declarations.iter().map(|(p, _)| p.clone()).collect());
    }

    /// Leave the innermost element.
    fn pop(&mut self) {
        for p in self.declared.pop().unwrap_or_default() {
            if let Some(stack) = self.bindings.get_mut(&p) {
                stack.pop();
                if stack.is_empty() {
                    self.bindings.remove(&p);
                }
            }
        }
    }

    fn resolve(&self, prefix: Option<&str>) -> Result<Option<String>, XmlError> {
        match prefix {
            Some("xml") => Ok(Some(XML_NS.to_string())),
            Some("xmlns") => Err(XmlError::Malformed("the xmlns prefix names no namespace of elements or attributes".into())),
            p => match self.bindings.get(&p.map(str::to_string)).and_then(|stack| stack.last()) {
                Some(uri) if uri.is_empty() => match p {
                    None => Ok(None),
                    Some(p) => Err(XmlError::UnboundPrefix(p.to_string())),
                },
                Some(uri) => Ok(Some(uri.clone())),
                None if p.is_none() => Ok(None),
                None => Err(XmlError::UnboundPrefix(p.unwrap_or_default().to_string())),
            },
        }
    }
}

fn split(qname: &str) -> (Option<&str>, &str) {
    match qname.split_once(':') {
        Some((p, l)) => (Some(p), l),
        None => (None, qname),
    }
}

fn malformed(e: impl std::fmt::Display) -> XmlError {
    XmlError::Malformed(e.to_string())
}

/// An element read from a start tag, its namespaces declared in `scopes` (the
/// caller pops them when the element ends). Linear in the tag's attributes:
/// duplicates are found by hashing, not by comparing each with those before it.
fn start(tag: &quick_xml::events::BytesStart<'_>, scopes: &mut Scopes) -> Result<Element, XmlError> {
    let mut declarations = Vec::new();
    let mut raw = Vec::new();
    let mut keys = HashSet::new();
    for a in tag.attributes().with_checks(false) {
        let a = a.map_err(malformed)?;
        let key = a.key.0;
        if !keys.insert(key) {
            return Err(XmlError::Malformed(format!("attribute {key} appears twice")));
        }
        let value = a.normalized_value(quick_xml::XmlVersion::Implicit1_0).map_err(malformed)?.into_owned();
        if key == "xmlns" {
            declarations.push((None, value));
        } else if let Some(p) = key.strip_prefix("xmlns:") {
            if value.is_empty() {
                return Err(XmlError::Malformed(format!("xmlns:{p} cannot be undeclared in XML 1.0")));
            }
            declarations.push((Some(p.to_string()), value));
        } else {
            raw.push((key.to_string(), value));
        }
    }
    scopes.push(&declarations);
    let qname = tag.name().0;
    let (prefix, local) = split(qname);
    let name = Name { prefix: prefix.map(str::to_string), local: local.to_string(), namespace: scopes.resolve(prefix)? };
    let mut attributes = Vec::with_capacity(raw.len());
    let mut expanded = HashSet::new();
    for (key, value) in raw {
        let (prefix, local) = split(&key);
        // Unprefixed attributes are in no namespace, whatever the default.
        let namespace = match prefix {
            None => None,
            p => scopes.resolve(p)?,
        };
        let name = Name { prefix: prefix.map(str::to_string), local: local.to_string(), namespace };
        if !expanded.insert((name.namespace.clone(), name.local.clone())) {
            return Err(XmlError::Malformed(format!("attribute {key} appears twice")));
        }
        attributes.push(Attribute { name, value });
    }
    Ok(Element { name, declarations, attributes, children: Vec::new() })
}

fn entity(name: &str) -> Result<char, XmlError> {
    Ok(match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "apos" => '\'',
        "quot" => '"',
        other => return Err(XmlError::UnknownEntity(other.to_string())),
    })
}

fn push_text(children: &mut Vec<Node>, text: &str) {
    if let Some(Node::Text(t)) = children.last_mut() {
        t.push_str(text);
    } else if !text.is_empty() {
        children.push(Node::Text(text.to_string()));
    }
}

impl Document {
    /// Parse `input` (UTF-8; a BOM is skipped).
    pub fn parse(input: &[u8]) -> Result<Document, XmlError> {
        if input.len() > MAX_XML_BYTES {
            return Err(XmlError::TooLarge);
        }
        let text =
            std::str::from_utf8(input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input)).map_err(|e| malformed(format!("not UTF-8: {e}")))?;
        let bom = input.len() - text.len();
        let mut reader = Reader::from_str(text);
        let config = reader.config_mut();
        config.trim_text(false);
        config.expand_empty_elements = false;
        config.check_end_names = true;
        config.check_comments = true;
        let mut scopes = Scopes::default();
        let mut open: Vec<Element> = Vec::new();
        let (mut before, mut after) = (Vec::new(), Vec::new());
        let mut root: Option<(Element, usize, bool)> = None;
        loop {
            let position = reader.buffer_position() as usize;
            let event = reader.read_event().map_err(malformed)?;
            let outside = |node: Node, root: &Option<_>, before: &mut Vec<Node>, after: &mut Vec<Node>| {
                if root.is_none() {
                    before.push(node)
                } else {
                    after.push(node)
                }
            };
            match event {
                Event::Decl(_) => {}
                Event::DocType(_) => return Err(XmlError::Doctype),
                Event::Start(tag) => {
                    if root.is_some() && open.is_empty() {
                        return Err(malformed("a second document element"));
                    }
                    if open.len() >= MAX_DEPTH {
                        return Err(XmlError::TooLarge);
                    }
                    open.push(start(&tag, &mut scopes)?);
                }
                Event::Empty(tag) => {
                    if root.is_some() && open.is_empty() {
                        return Err(malformed("a second document element"));
                    }
                    let element = start(&tag, &mut scopes)?;
                    scopes.pop();
                    match open.last_mut() {
                        Some(parent) => parent.children.push(Node::Element(element)),
                        // The `/>` is the last two bytes before the reader's position now.
                        None => root = Some((element, reader.buffer_position() as usize - 2 + bom, true)),
                    }
                }
                Event::End(_) => {
                    let element = open.pop().ok_or_else(|| malformed("an end tag without a start"))?;
                    scopes.pop();
                    match open.last_mut() {
                        Some(parent) => parent.children.push(Node::Element(element)),
                        None => root = Some((element, position + bom, false)),
                    }
                }
                Event::Text(t) => {
                    let content = t.xml10_content();
                    match open.last_mut() {
                        Some(parent) => push_text(&mut parent.children, &content),
                        None if content.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r')).is_empty() => {}
                        None => return Err(malformed("text outside the document element")),
                    }
                }
                Event::CData(t) => match open.last_mut() {
                    Some(parent) => push_text(&mut parent.children, &t.xml10_content()),
                    None => return Err(malformed("CDATA outside the document element")),
                },
                Event::GeneralRef(r) => {
                    let c = match r.resolve_char_ref().map_err(malformed)? {
                        Some(c) => c,
                        None => entity(&r)?,
                    };
                    match open.last_mut() {
                        Some(parent) => push_text(&mut parent.children, c.encode_utf8(&mut [0; 4])),
                        None => return Err(malformed("a reference outside the document element")),
                    }
                }
                Event::Comment(c) => {
                    let node = Node::Comment(c.xml10_content().into_owned());
                    match open.last_mut() {
                        Some(parent) => parent.children.push(node),
                        None => outside(node, &root, &mut before, &mut after),
                    }
                }
                Event::PI(pi) => {
                    let node = Node::Pi { target: pi.target().to_string(), data: pi.content().trim_start().to_string() };
                    match open.last_mut() {
                        Some(parent) => parent.children.push(node),
                        None => outside(node, &root, &mut before, &mut after),
                    }
                }
                Event::Eof => break,
            }
        }
        if !open.is_empty() {
            return Err(malformed("the document ends inside an element"));
        }
        let (root, root_end_offset, root_was_empty) = root.ok_or_else(|| malformed("no document element"))?;
        Ok(Document { before, root, after, root_end_offset, root_was_empty })
    }

    /// The first element (depth first) for which `pred` holds, with its ancestors.
    pub fn find<'a>(&'a self, pred: &dyn Fn(&Element) -> bool) -> Option<(&'a Element, Vec<&'a Element>)> {
        let mut found = None;
        self.root.walk(&mut Vec::new(), &mut |e, ancestors| {
            if found.is_none() && pred(e) {
                found = Some((e, ancestors.to_vec()));
            }
        });
        found
    }

    /// Every element for which `pred` holds, with its ancestors, in document order.
    pub(crate) fn find_all<'a>(&'a self, pred: &dyn Fn(&Element) -> bool) -> Vec<(&'a Element, Vec<&'a Element>)> {
        self.find_at_most(pred, usize::MAX).0
    }

    /// The first `limit` elements (depth first) for which `pred` holds, each with
    /// its ancestors, and how many there are in all: a hostile document with a
    /// great many matches costs one walk, not a copy of the ancestors for each.
    pub(crate) fn find_at_most<'a>(&'a self, pred: &dyn Fn(&Element) -> bool, limit: usize) -> (Vec<(&'a Element, Vec<&'a Element>)>, usize) {
        let mut found = Vec::new();
        let mut count = 0;
        self.root.walk(&mut Vec::new(), &mut |e, ancestors| {
            if pred(e) {
                count += 1;
                if found.len() < limit {
                    found.push((e, ancestors.to_vec()));
                }
            }
        });
        (found, count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_namespaces_references_and_line_ends() {
        let doc = Document::parse(
            b"<?xml version=\"1.0\"?>\r\n<!-- before --><a:r xmlns:a=\"urn:a\" xmlns=\"urn:d\" x=\"1\r\n2\tz&#xA;\" a:y='&lt;'>t&amp;&#x442;\r\n<b/><![CDATA[<c>]]><?p  data ?></a:r>\n<!--after-->",
        )
        .unwrap();
        assert_eq!(doc.before, vec![Node::Comment(" before ".into())]);
        assert_eq!(doc.after, vec![Node::Comment("after".into())]);
        assert_eq!(doc.root.name.qualified(), "a:r");
        assert_eq!(doc.root.name.namespace.as_deref(), Some("urn:a"));
        assert_eq!(doc.root.attribute("x"), Some("1 2 z\n"));
        assert_eq!(doc.root.attributes[1].name.namespace.as_deref(), Some("urn:a"));
        assert_eq!(doc.root.attributes[1].value, "<");
        assert_eq!(doc.root.children[0], Node::Text("t&т\n".into()));
        let Node::Element(b) = &doc.root.children[1] else { panic!() };
        assert_eq!(b.name.namespace.as_deref(), Some("urn:d"));
        assert_eq!(doc.root.children[2], Node::Text("<c>".into()));
        assert_eq!(doc.root.children[3], Node::Pi { target: "p".into(), data: "data ".into() });
    }

    #[test]
    fn refuses_what_it_must_not_expand_or_cannot_read() {
        assert_eq!(Document::parse(b"<!DOCTYPE r [<!ENTITY e \"x\">]><r>&e;</r>"), Err(XmlError::Doctype));
        assert_eq!(Document::parse(b"<r>&e;</r>"), Err(XmlError::UnknownEntity("e".into())));
        assert_eq!(Document::parse(b"<p:r/>"), Err(XmlError::UnboundPrefix("p".into())));
        assert!(matches!(Document::parse(b"<r><a></b></r>"), Err(XmlError::Malformed(_))));
        assert!(matches!(Document::parse(b"<r/><r/>"), Err(XmlError::Malformed(_))));
        assert!(matches!(Document::parse(b"<r a='1' a='2'/>"), Err(XmlError::Malformed(_))));
        assert!(matches!(Document::parse(b"<r>"), Err(XmlError::Malformed(_))));
        assert!(matches!(Document::parse(b"\xff<r/>"), Err(XmlError::Malformed(_))));
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert_eq!(Document::parse(deep.as_bytes()), Err(XmlError::TooLarge));
    }

    #[test]
    fn knows_where_the_document_element_ends() {
        let text = b"<?xml version=\"1.0\"?><root><x/></root>\n";
        let doc = Document::parse(text).unwrap();
        assert_eq!(&text[doc.root_end_offset..], b"</root>\n");
        let text = b"\xEF\xBB\xBF<root a='1'/>";
        let doc = Document::parse(text).unwrap();
        assert!(doc.root_was_empty);
        assert_eq!(&text[doc.root_end_offset..], b"/>");
    }
}
