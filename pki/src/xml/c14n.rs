//! Canonical XML: inclusive C14N 1.0 (W3C REC 2001-03-15), with and without
//! comments, and exclusive C14N 1.0 (W3C REC 2002-07-18) with an
//! InclusiveNamespaces prefix list. What XML signatures digest and sign.
//!
//! Two document subsets are canonicalised, those XML signatures use: a whole
//! document less one element's subtree (an enveloped signature), and one
//! element's subtree (SignedInfo, or a reference by Id), whose namespaces (and,
//! inclusively, `xml:` attributes) in scope from its ancestors are carried in.

use super::{Attribute, Document, Element, Name, Node, XML_NS};
use std::collections::{BTreeMap, HashSet};

/// Inclusive C14N 1.0.
pub const C14N: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
/// Inclusive C14N 1.0 with comments.
pub const C14N_WITH_COMMENTS: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments";
/// Exclusive C14N 1.0.
pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
/// Exclusive C14N 1.0 with comments.
pub const EXC_C14N_WITH_COMMENTS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";

/// A canonicalisation method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Method {
    /// Inclusive C14N 1.0: every namespace in scope is rendered.
    Inclusive {
        /// Keep comments.
        comments: bool,
    },
    /// Exclusive C14N 1.0: only the namespaces an element uses, and those listed.
    Exclusive {
        /// Keep comments.
        comments: bool,
        /// Prefixes treated inclusively (`None` is `#default`).
        inclusive_prefixes: Vec<Option<String>>,
    },
}

impl Method {
    /// The method an algorithm URI names; `prefix_list` is an InclusiveNamespaces
    /// PrefixList (exclusive only).
    pub fn from_uri(uri: &str, prefix_list: Option<&str>) -> Option<Method> {
        let prefixes = || {
            prefix_list.unwrap_or("").split_ascii_whitespace().map(|p| if p == "#default" { None } else { Some(p.to_string()) }).collect()
        };
        Some(match uri {
            C14N => Method::Inclusive { comments: false },
            C14N_WITH_COMMENTS => Method::Inclusive { comments: true },
            EXC_C14N => Method::Exclusive { comments: false, inclusive_prefixes: prefixes() },
            EXC_C14N_WITH_COMMENTS => Method::Exclusive { comments: true, inclusive_prefixes: prefixes() },
            _ => return None,
        })
    }

    /// Its algorithm URI.
    pub fn uri(&self) -> &'static str {
        match self {
            Method::Inclusive { comments: false } => C14N,
            Method::Inclusive { comments: true } => C14N_WITH_COMMENTS,
            Method::Exclusive { comments: false, .. } => EXC_C14N,
            Method::Exclusive { comments: true, .. } => EXC_C14N_WITH_COMMENTS,
        }
    }

    fn comments(&self) -> bool {
        match self {
            Method::Inclusive { comments } | Method::Exclusive { comments, .. } => *comments,
        }
    }
}

/// Prefix (`None`: default) to URI (`""`: the default undeclared).
type Namespaces = BTreeMap<Option<String>, String>;

/// What a map held before a change: replayed backwards to restore it.
type Undo = Vec<(Option<String>, Option<String>)>;

/// Set `entries` in `map`, returning what restores it.
fn set_all(map: &mut Namespaces, entries: impl IntoIterator<Item = (Option<String>, String)>) -> Undo {
    entries.into_iter().map(|(p, uri)| (p.clone(), map.insert(p, uri))).collect()
}

fn restore(map: &mut Namespaces, undo: Undo) {
    for (p, old) in undo.into_iter().rev() {
        match old {
            Some(uri) => map.insert(p, uri),
            None => map.remove(&p),
        };
    }
}

/// An element's own namespace declarations (the `xml` prefix is never declared).
fn own_declarations(e: &Element) -> impl Iterator<Item = (Option<String>, String)> + '_ {
    e.declarations.iter().filter(|(p, _)| p.as_deref() != Some("xml")).cloned()
}

/// Writes the canonical form. The namespaces in scope and those rendered are one
/// map each, changed on the way into an element and restored on the way out, so an
/// element costs what it declares and uses, not what is in scope: a document with
/// many declarations and many elements is not quadratic.
struct Writer<'a> {
    out: String,
    method: &'a Method,
    comments: bool,
    exclude: Option<&'a Element>,
    /// The document's namespaces in scope at the element being written.
    scope: Namespaces,
    /// The declarations in effect in the output at that element.
    rendered: Namespaces,
    /// Exclusive C14N's InclusiveNamespaces prefixes, as a set: a long PrefixList
    /// then costs one lookup per declaration, not a scan.
    inclusive: HashSet<Option<String>>,
}

fn escape_text(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

fn escape_attribute(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

impl<'a> Writer<'a> {
    fn new(method: &'a Method, comments: bool, exclude: Option<&'a Element>) -> Self {
        Writer {
            out: String::new(),
            method,
            comments: comments && method.comments(),
            exclude,
            scope: Namespaces::new(),
            rendered: Namespaces::new(),
            inclusive: match method {
                Method::Exclusive { inclusive_prefixes, .. } => inclusive_prefixes.iter().cloned().collect(),
                Method::Inclusive { .. } => HashSet::new(),
            },
        }
    }

    fn node(&mut self, node: &Node) {
        match node {
            Node::Element(e) => self.element(e, false, &[]),
            Node::Text(t) => escape_text(t, &mut self.out),
            Node::Comment(c) if self.comments => {
                self.out.push_str("<!--");
                self.out.push_str(c);
                self.out.push_str("-->");
            }
            Node::Comment(_) => {}
            Node::Pi { target, data } => self.pi(target, data),
        }
    }

    fn pi(&mut self, target: &str, data: &str) {
        self.out.push_str("<?");
        self.out.push_str(target);
        if !data.is_empty() {
            self.out.push(' ');
            self.out.push_str(data);
        }
        self.out.push_str("?>");
    }

    /// Which namespace declarations `e` renders. The apex (the first element
    /// written) looks at everything in scope that the method wants; below it, what
    /// is in scope differs from what was rendered only where an element declares
    /// something, so only its own declarations (and, exclusively, the prefixes it
    /// uses) need looking at.
    fn declarations(&self, e: &Element, apex: bool) -> Vec<(Option<String>, String)> {
        let declared = || own_declarations(e).map(|(p, _)| p);
        let mut wanted: Vec<Option<String>> = match self.method {
            Method::Inclusive { .. } if apex => self.scope.keys().cloned().collect(),
            Method::Inclusive { .. } => declared().collect(),
            Method::Exclusive { .. } => {
                let mut used: Vec<Option<String>> = vec![e.name.prefix.clone()];
                used.extend(e.attributes.iter().filter_map(|a| a.name.prefix.clone()).filter(|p| p != "xml").map(Some));
                if apex {
                    used.extend(self.inclusive.iter().filter(|p| self.scope.contains_key(*p)).cloned());
                } else if !e.declarations.is_empty() {
                    used.extend(declared().filter(|p| self.inclusive.contains(p)));
                }
                used
            }
        };
        wanted.sort();
        wanted.dedup();
        let mut out = Vec::new();
        for p in wanted {
            let uri = self.scope.get(&p).map(String::as_str).unwrap_or("");
            let above = self.rendered.get(&p).map(String::as_str).unwrap_or("");
            if uri.is_empty() {
                // Only the default namespace can be undeclared: say so if above it was set.
                if p.is_none() && !above.is_empty() {
                    out.push((None, String::new()));
                }
            } else if above != uri {
                out.push((p, uri.to_string()));
            }
        }
        out
    }

    fn element(&mut self, e: &Element, apex: bool, inherited: &[Attribute]) {
        if self.exclude.is_some_and(|x| std::ptr::eq(x, e)) {
            return;
        }
        let scope_undo = set_all(&mut self.scope, own_declarations(e));
        let declarations = self.declarations(e, apex);
        let rendered_undo = set_all(&mut self.rendered, declarations.iter().cloned());
        let qname = e.name.qualified();
        self.out.push('<');
        self.out.push_str(&qname);
        for (p, uri) in &declarations {
            match p {
                None => self.out.push_str(" xmlns=\""),
                Some(p) => {
                    self.out.push_str(" xmlns:");
                    self.out.push_str(p);
                    self.out.push_str("=\"");
                }
            }
            escape_attribute(uri, &mut self.out);
            self.out.push('"');
        }
        let mut attributes: Vec<&Attribute> = e.attributes.iter().collect();
        if !inherited.is_empty() {
            let own: HashSet<&Name> = e.attributes.iter().map(|a| &a.name).collect();
            attributes.extend(inherited.iter().filter(|i| !own.contains(&i.name)));
        }
        attributes.sort_by(|a, b| {
            (a.name.namespace.as_deref().unwrap_or(""), a.name.local.as_str())
                .cmp(&(b.name.namespace.as_deref().unwrap_or(""), b.name.local.as_str()))
        });
        for a in attributes {
            self.out.push(' ');
            self.out.push_str(&a.name.qualified());
            self.out.push_str("=\"");
            escape_attribute(&a.value, &mut self.out);
            self.out.push('"');
        }
        self.out.push('>');
        for child in &e.children {
            self.node(child);
        }
        self.out.push_str("</");
        self.out.push_str(&qname);
        self.out.push('>');
        restore(&mut self.rendered, rendered_undo);
        restore(&mut self.scope, scope_undo);
    }
}

/// The canonical form of the whole document, less `exclude`'s subtree; comments
/// only when the method keeps them and `comments` allows (a same-document
/// reference drops them).
pub fn document(doc: &Document, method: &Method, exclude: Option<&Element>, comments: bool) -> Vec<u8> {
    let mut w = Writer::new(method, comments, exclude);
    for n in &doc.before {
        let len = w.out.len();
        w.node(n);
        if w.out.len() > len {
            w.out.push('\n');
        }
    }
    w.element(&doc.root, true, &[]);
    for n in &doc.after {
        // A line end before each node after the document element that renders.
        let len = w.out.len();
        w.out.push('\n');
        w.node(n);
        if w.out.len() == len + 1 {
            w.out.truncate(len);
        }
    }
    w.out.into_bytes()
}

/// The canonical form of `element`'s subtree; `ancestors` (outermost first) give
/// the namespaces in scope and, for inclusive C14N, the `xml:` attributes it inherits.
pub fn subtree(element: &Element, ancestors: &[&Element], method: &Method, exclude: Option<&Element>, comments: bool) -> Vec<u8> {
    let mut w = Writer::new(method, comments, exclude);
    // The nearest ancestor's `xml:` attribute of each name (they are sorted when written).
    let mut inherited: BTreeMap<&str, &Attribute> = BTreeMap::new();
    for a in ancestors {
        set_all(&mut w.scope, own_declarations(a));
        if matches!(method, Method::Inclusive { .. }) {
            for attr in a.attributes.iter().filter(|x| x.name.namespace.as_deref() == Some(XML_NS)) {
                inherited.insert(attr.name.local.as_str(), attr);
            }
        }
    }
    let inherited: Vec<Attribute> = inherited.into_values().cloned().collect();
    w.element(element, true, &inherited);
    w.out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inclusive(xml: &str, comments: bool) -> String {
        String::from_utf8(document(&Document::parse(xml.as_bytes()).unwrap(), &Method::Inclusive { comments }, None, true)).unwrap()
    }

    /// The examples of the C14N 1.0 recommendation, §3.
    #[test]
    fn the_recommendations_examples() {
        // 3.1 PIs, comments, and outside of the document element.
        let input = "<?xml version=\"1.0\"?>\n\n<?xml-stylesheet   href=\"doc.xsl\"\n   type=\"text/xsl\"   ?>\n\n<doc>Hello, world!<!-- Comment 1 --></doc>\n\n<?pi-without-data     ?>\n\n<!-- Comment 2 -->\n\n<!-- Comment 3 -->";
        assert_eq!(
            inclusive(input, false),
            "<?xml-stylesheet href=\"doc.xsl\"\n   type=\"text/xsl\"   ?>\n<doc>Hello, world!</doc>\n<?pi-without-data?>"
        );
        assert_eq!(
            inclusive(input, true),
            "<?xml-stylesheet href=\"doc.xsl\"\n   type=\"text/xsl\"   ?>\n<doc>Hello, world!<!-- Comment 1 --></doc>\n<?pi-without-data?>\n<!-- Comment 2 -->\n<!-- Comment 3 -->"
        );
        // 3.3 start and end tags (without the DTD's default attributes).
        let input = "<doc>\n   <e1   />\n   <e2   ></e2>\n   <e3   name = \"elem3\"   id=\"elem3\"   />\n   <e4   name=\"elem4\"   id=\"elem4\"   ></e4>\n   <e5 a:attr=\"out\" b:attr=\"sorted\" attr2=\"all\" attr=\"I'm\"\n      xmlns:b=\"http://www.ietf.org\"\n      xmlns:a=\"http://www.w3.org\"\n      xmlns=\"http://example.org\"/>\n   <e6 xmlns=\"\" xmlns:a=\"http://www.w3.org\">\n      <e7 xmlns=\"http://www.ietf.org\">\n         <e8 xmlns=\"\" xmlns:a=\"http://www.w3.org\">\n            <e9 xmlns=\"\" xmlns:a=\"http://www.ietf.org\"/>\n         </e8>\n      </e7>\n   </e6>\n</doc>";
        assert_eq!(
            inclusive(input, false),
            "<doc>\n   <e1></e1>\n   <e2></e2>\n   <e3 id=\"elem3\" name=\"elem3\"></e3>\n   <e4 id=\"elem4\" name=\"elem4\"></e4>\n   <e5 xmlns=\"http://example.org\" xmlns:a=\"http://www.w3.org\" xmlns:b=\"http://www.ietf.org\" attr=\"I'm\" attr2=\"all\" b:attr=\"sorted\" a:attr=\"out\"></e5>\n   <e6 xmlns:a=\"http://www.w3.org\">\n      <e7 xmlns=\"http://www.ietf.org\">\n         <e8 xmlns=\"\">\n            <e9 xmlns:a=\"http://www.ietf.org\"></e9>\n         </e8>\n      </e7>\n   </e6>\n</doc>"
        );
        // 3.4 character modifications and character references (no DTD: no normalisation by type).
        let input = "<doc>\n   <text>First line&#x0d;&#10;Second line</text>\n   <value>&#x32;</value>\n   <compute><![CDATA[value>\"0\" && value<\"10\" ?\"valid\":\"error\"]]></compute>\n   <compute expr='value>\"0\" &amp;&amp; value&lt;\"10\" ?\"valid\":\"error\"'>valid</compute>\n   <norm attr=' &apos;   &#x20;&#13;&#xa;&#9;   &apos; '/>\n</doc>";
        assert_eq!(
            inclusive(input, false),
            "<doc>\n   <text>First line&#xD;\nSecond line</text>\n   <value>2</value>\n   <compute>value&gt;\"0\" &amp;&amp; value&lt;\"10\" ?\"valid\":\"error\"</compute>\n   <compute expr=\"value>&quot;0&quot; &amp;&amp; value&lt;&quot;10&quot; ?&quot;valid&quot;:&quot;error&quot;\">valid</compute>\n   <norm attr=\" '    &#xD;&#xA;&#x9;   ' \"></norm>\n</doc>"
        );
    }

    #[test]
    fn a_subtree_carries_its_ancestors_namespaces_and_xml_attributes() {
        let doc = Document::parse(
            b"<r xmlns='urn:d' xmlns:a='urn:a' xmlns:b='urn:b' xml:lang='kk'><a:s xml:space='preserve'><a:t b:x='1'/><u/></a:s></r>",
        )
        .unwrap();
        let (s, ancestors) = doc.find(&|e| e.name.local == "s").unwrap();
        let inc = String::from_utf8(subtree(s, &ancestors, &Method::Inclusive { comments: false }, None, false)).unwrap();
        assert_eq!(
            inc,
            "<a:s xmlns=\"urn:d\" xmlns:a=\"urn:a\" xmlns:b=\"urn:b\" xml:lang=\"kk\" xml:space=\"preserve\"><a:t b:x=\"1\"></a:t><u></u></a:s>"
        );
        let exc =
            String::from_utf8(subtree(s, &ancestors, &Method::Exclusive { comments: false, inclusive_prefixes: vec![] }, None, false))
                .unwrap();
        assert_eq!(
            exc,
            "<a:s xmlns:a=\"urn:a\" xml:space=\"preserve\"><a:t xmlns:b=\"urn:b\" b:x=\"1\"></a:t><u xmlns=\"urn:d\"></u></a:s>"
        );
        let listed = Method::from_uri(EXC_C14N, Some("b #default")).unwrap();
        let exc = String::from_utf8(subtree(s, &ancestors, &listed, None, false)).unwrap();
        assert_eq!(
            exc,
            "<a:s xmlns=\"urn:d\" xmlns:a=\"urn:a\" xmlns:b=\"urn:b\" xml:space=\"preserve\"><a:t b:x=\"1\"></a:t><u></u></a:s>"
        );
    }

    #[test]
    fn an_excluded_subtree_leaves_its_surroundings_as_they_were() {
        let doc = Document::parse(b"<r>\n<a>1</a><!--c--><s:sig xmlns:s='urn:s'><x/></s:sig>\n</r>").unwrap();
        let (sig, _) = doc.find(&|e| e.name.local == "sig").unwrap();
        let with = Method::Inclusive { comments: true };
        assert_eq!(String::from_utf8(document(&doc, &with, Some(sig), false)).unwrap(), "<r>\n<a>1</a>\n</r>");
        assert_eq!(String::from_utf8(document(&doc, &with, Some(sig), true)).unwrap(), "<r>\n<a>1</a><!--c-->\n</r>");
    }

    #[test]
    fn a_long_prefix_list_over_many_declarations_costs_linear_time() {
        // 20,000 declarations on one element, 20,000 prefixes in the list, and 20,000
        // comments after the document element: each is looked up, never scanned.
        let n = 20_000;
        let declarations: String = (0..n).map(|i| format!(" xmlns:p{i}=\"urn:{i}\"")).collect();
        let xml = format!("<r><e{declarations}><p1:x/></e></r>{}", "<!--c-->".repeat(n));
        let doc = Document::parse(xml.as_bytes()).unwrap();
        let long = Method::Exclusive { comments: true, inclusive_prefixes: (0..n).map(|i| Some(format!("p{i}"))).collect() };
        let short = Method::Exclusive { comments: true, inclusive_prefixes: vec![] };
        let time = |m: &Method| {
            let t = std::time::Instant::now();
            let out = document(&doc, m, None, true);
            (t.elapsed(), out.len())
        };
        let ((base, _), (long_time, long_len)) = (time(&short), time(&long));
        assert!(long_len > xml.len() / 2, "the listed prefixes are rendered");
        assert!(long_time < base * 20 + std::time::Duration::from_millis(200), "{long_time:?} against {base:?}");
    }
}
