//! The applicants' personal cabinet: a page at `/` in Kazakh, Russian and English
//! where applicants apply, follow their application, download their key files,
//! renew and revoke; and the certification practice statement at `/cps`, where
//! every certificate's policy points.
//!
//! Keys are made in the browser (WebCrypto) and never reach the server: the page
//! talks to the same `/api/v1/` every other client uses. Everything it needs is
//! served from this binary: the page, its script and style, the translations, and
//! one vendored library (PKI.js, see `web/vendor/LICENSES.txt`) for PKCS#10,
//! PKCS#12 and CMS. The Content-Security-Policy allows nothing from elsewhere.

use axum::body::Bytes;
use axum::extract::Query;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use ca_core::profile::CPS_PATH;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

const INDEX: &str = include_str!("../web/index.html");
const CPS: &str = include_str!("../web/cps.html");
const SCRIPT: &str = include_str!("../web/cabinet.js");
const STYLE: &str = include_str!("../web/cabinet.css");
/// Every text of the page and every message it shows, in each language.
const TRANSLATIONS: &str = include_str!("../web/i18n.json");
const LIBRARY: &str = include_str!("../web/vendor/pki.min.js");
const LIBRARY_LICENSES: &str = include_str!("../web/vendor/LICENSES.txt");

/// Where the page's files are served.
pub const ASSETS: &str = "/cabinet";

/// The languages of the page, the state language first (the default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// Қазақ тілі.
    Kk,
    /// Русский.
    Ru,
    /// English.
    En,
}

impl Lang {
    /// All, in the order the page lists them.
    pub const ALL: [Lang; 3] = [Lang::Kk, Lang::Ru, Lang::En];

    /// The BCP 47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Kk => "kk",
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }

    fn of_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.tag() == primary)
    }

    /// The language asked for by `?lang=`, else the best of `Accept-Language`
    /// (by q-value, then order), else Kazakh.
    pub fn choose(query: Option<&str>, accept: Option<&str>) -> Lang {
        if let Some(l) = query.and_then(Lang::of_tag) {
            return l;
        }
        let mut best: Option<(u32, Lang)> = None;
        for item in accept.unwrap_or_default().split(',') {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Lang::of_tag) else { continue };
            let q =
                parts.filter_map(|p| p.trim().strip_prefix("q=")).find_map(|q| q.trim().parse::<f32>().ok()).unwrap_or(1.0).clamp(0.0, 1.0);
            let q = (q * 1000.0).round() as u32;
            if q > 0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::Kk)
    }
}

/// The page and the CPS, rendered once per language at start.
pub struct Cabinet {
    index: BTreeMap<&'static str, Bytes>,
    cps: BTreeMap<&'static str, Bytes>,
}

/// Why the page could not be prepared (a fault in the files built into the binary).
#[derive(Debug, thiserror::Error)]
pub enum CabinetError {
    /// The translations are not a JSON object of objects of strings.
    #[error("web/i18n.json: {0}")]
    Translations(String),
    /// A `{{key}}` in a page has no translation.
    #[error("{page}: no {lang} translation for {{{{{key}}}}}")]
    Missing {
        /// Which page.
        page: &'static str,
        /// The language.
        lang: &'static str,
        /// The key.
        key: String,
    },
}

type Dictionary = BTreeMap<String, BTreeMap<String, String>>;

fn translations() -> Result<Dictionary, CabinetError> {
    serde_json::from_str(TRANSLATIONS).map_err(|e| CabinetError::Translations(e.to_string()))
}

/// `page` with each `{{key}}` replaced by the HTML-escaped text of `key` in `lang`.
fn render(page_name: &'static str, page: &str, lang: Lang, dict: &Dictionary) -> Result<String, CabinetError> {
    let texts = dict.get(lang.tag()).ok_or_else(|| CabinetError::Translations(format!("no {} section", lang.tag())))?;
    let mut out = String::with_capacity(page.len() * 2);
    let mut rest = page;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| CabinetError::Translations(format!("{page_name}: unclosed {{{{")))?;
        let key = &after[..end];
        let text = match key {
            "lang" => lang.tag(),
            _ => texts.get(key).ok_or_else(|| CabinetError::Missing { page: page_name, lang: lang.tag(), key: key.to_string() })?,
        };
        escape_into(&mut out, text);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

impl Cabinet {
    /// Render the pages in every language; fails when a translation is missing.
    pub fn new() -> Result<Arc<Self>, CabinetError> {
        let dict = translations()?;
        let mut index = BTreeMap::new();
        let mut cps = BTreeMap::new();
        for lang in Lang::ALL {
            index.insert(lang.tag(), Bytes::from(render("index.html", INDEX, lang, &dict)?));
            cps.insert(lang.tag(), Bytes::from(render("cps.html", CPS, lang, &dict)?));
        }
        Ok(Arc::new(Cabinet { index, cps }))
    }

    fn page(pages: &BTreeMap<&'static str, Bytes>, q: &LangQuery, headers: &HeaderMap) -> Response {
        let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
        let lang = Lang::choose(q.lang.as_deref(), accept);
        let body = pages.get(lang.tag()).cloned().unwrap_or_default();
        let mut response = with_headers(body, "text/html; charset=utf-8");
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.tag()));
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        response
    }
}

#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

/// What every response of the cabinet carries: nothing may load from elsewhere,
/// no framing, no sniffing, no referrer (application numbers are in no URL, but
/// nothing is sent anyway).
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
                   form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

fn with_headers(body: impl Into<axum::body::Body>, content_type: &'static str) -> Response {
    let mut response = (StatusCode::OK, body.into()).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = with_headers(body, content_type);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The page and its files. With `https` (the plain listener of a server that
/// also runs HTTPS), `/` sends the browser there: the page handles secrets.
pub fn router(cabinet: Arc<Cabinet>, https: Option<String>) -> Router {
    let router = Router::new()
        .route(&format!("{ASSETS}/cabinet.js"), get(|| async { asset(SCRIPT, "text/javascript; charset=utf-8") }))
        .route(&format!("{ASSETS}/cabinet.css"), get(|| async { asset(STYLE, "text/css; charset=utf-8") }))
        .route(&format!("{ASSETS}/i18n.json"), get(|| async { asset(TRANSLATIONS, "application/json") }))
        .route(&format!("{ASSETS}/pki.min.js"), get(|| async { asset(LIBRARY, "text/javascript; charset=utf-8") }))
        .route(&format!("{ASSETS}/LICENSES.txt"), get(|| async { asset(LIBRARY_LICENSES, "text/plain; charset=utf-8") }));
    let cps = cabinet.clone();
    let router = router
        .route(CPS_PATH, get(move |Query(q): Query<LangQuery>, headers: HeaderMap| async move { Cabinet::page(&cps.cps, &q, &headers) }));
    match https {
        Some(base) => router.route("/", get(move || async move { Redirect::temporary(&format!("{base}/")) })),
        None => router.route(
            "/",
            get(move |Query(q): Query<LangQuery>, headers: HeaderMap| async move { Cabinet::page(&cabinet.index, &q, &headers) }),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_comes_from_the_query_then_accept_language_then_kazakh() {
        assert_eq!(Lang::choose(Some("ru"), Some("en")), Lang::Ru);
        assert_eq!(Lang::choose(Some("de"), Some("en-GB,en;q=0.9")), Lang::En);
        assert_eq!(Lang::choose(None, Some("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7")), Lang::Ru);
        assert_eq!(Lang::choose(None, Some("de-DE, en;q=0.5, kk;q=0.8")), Lang::Kk);
        assert_eq!(Lang::choose(None, Some("en;q=0.2, ru;q=0.9")), Lang::Ru);
        assert_eq!(Lang::choose(None, Some("ru;q=0, en;q=0.1")), Lang::En);
        assert_eq!(Lang::choose(None, Some("fr, de")), Lang::Kk);
        assert_eq!(Lang::choose(None, Some(";;;,q=,=")), Lang::Kk);
        assert_eq!(Lang::choose(None, None), Lang::Kk);
    }

    #[test]
    fn every_language_has_every_text_and_the_pages_render() {
        let dict = translations().unwrap();
        let keys = |lang: &str| dict[lang].keys().cloned().collect::<Vec<_>>();
        for lang in Lang::ALL {
            assert_eq!(keys(lang.tag()), keys("en"), "{} has other keys than en", lang.tag());
            for (key, text) in &dict[lang.tag()] {
                assert!(!text.trim().is_empty(), "{}: {key} is empty", lang.tag());
            }
            for (name, page) in [("index.html", INDEX), ("cps.html", CPS)] {
                let html = render(name, page, lang, &dict).unwrap();
                assert!(!html.contains("{{"), "{name} in {} left a placeholder", lang.tag());
                assert!(html.contains(&format!("<html lang=\"{}\"", lang.tag())));
            }
        }
        assert!(Cabinet::new().is_ok());
    }

    #[test]
    fn every_error_code_and_reason_of_the_api_is_translated() {
        let dict = translations().unwrap();
        for lang in Lang::ALL {
            let texts = &dict[lang.tag()];
            for code in ca_core::api::ERROR_CODES {
                assert!(texts.contains_key(&format!("error.{code}")), "{}: no translation for error code {code}", lang.tag());
            }
            let openapi: serde_json::Value = serde_json::from_str(crate::api::OPENAPI).unwrap();
            let error = &openapi["components"]["schemas"]["Error"]["properties"]["error"]["properties"];
            for reason in error["reason"]["enum"].as_array().unwrap() {
                let key = format!("reason.{}", reason.as_str().unwrap());
                assert!(texts.contains_key(&key), "{}: no translation for {key}", lang.tag());
            }
            for field in error["field"]["enum"].as_array().unwrap() {
                let key = format!("field.{}", field.as_str().unwrap());
                assert!(texts.contains_key(&key), "{}: no translation for {key}", lang.tag());
            }
        }
    }

    /// Every field of the page has a label: a `<label for>` naming it, or, for a
    /// radio button, the label around it.
    #[test]
    fn every_field_has_a_label() {
        let mut fields = 0;
        for tag in INDEX.split('<').filter(|t| t.starts_with("input") || t.starts_with("select")) {
            let id = tag.split("id=\"").nth(1).and_then(|r| r.split('"').next()).expect("every field has an id");
            let wrapped = tag.contains("type=\"radio\"") && INDEX.contains(&format!("<label class=\"choice\"><{}", tag.trim_end()));
            assert!(INDEX.contains(&format!("<label for=\"{id}\">")) || wrapped, "field {id} has no label");
            fields += 1;
        }
        assert!(fields >= 20, "{fields} fields found");
    }

    #[test]
    fn texts_are_escaped_into_the_page() {
        let mut dict = Dictionary::new();
        dict.insert("en".into(), [("t".to_string(), "<b>\"A&B\"</b>".to_string())].into());
        assert_eq!(render("p", "<p title=\"{{t}}\">{{t}}</p>", Lang::En, &dict).unwrap(), {
            "<p title=\"&lt;b&gt;&quot;A&amp;B&quot;&lt;/b&gt;\">&lt;b&gt;&quot;A&amp;B&quot;&lt;/b&gt;</p>"
        });
        assert!(matches!(render("p", "{{nope}}", Lang::En, &dict), Err(CabinetError::Missing { .. })));
        assert!(render("p", "{{t", Lang::En, &dict).is_err());
    }
}
