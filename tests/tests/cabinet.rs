//! The applicants' page as the server serves it: the language from `?lang=` or
//! `Accept-Language`, the files it needs all from the server itself (nothing from
//! elsewhere, by content and by Content-Security-Policy), the CPS at the URL the
//! certificates name, and with HTTPS on, the plain listener sending the browser
//! there. The page itself is driven in a real browser by `tests/browser/cabinet.py`.

use e2e::{fresh_authority, individual, issue, Server};

fn get(url: &str, accept_language: Option<&str>) -> ureq::Response {
    let mut req = ureq::get(url);
    if let Some(l) = accept_language {
        req = req.set("Accept-Language", l);
    }
    req.call().unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

#[test]
fn the_page_speaks_the_asked_language_and_loads_nothing_from_elsewhere() {
    let t = fresh_authority();
    let server = Server::on(&t.join("data"));
    let base = server.url();
    for (accept, query, lang, words) in [
        (Some("ru-RU,ru;q=0.9,en;q=0.8"), "", "ru", "Подать заявку"),
        (Some("en-US,en;q=0.9"), "", "en", "Make my keys and apply"),
        (Some("fr-FR"), "", "kk", "Кілттерді жасап, өтінім беру"),
        (None, "", "kk", "Өтінім беру"),
        (Some("ru"), "?lang=en", "en", "Apply"),
    ] {
        let r = get(&format!("{base}/{query}"), accept);
        assert_eq!(r.header("Content-Language"), Some(lang));
        let csp = r.header("Content-Security-Policy").expect("a CSP").to_string();
        assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"), "{csp}");
        assert_eq!(r.header("X-Frame-Options"), Some("DENY"));
        let html = r.into_string().unwrap();
        assert!(html.contains(&format!("<html lang=\"{lang}\"")), "{accept:?}{query} gave another language");
        assert!(html.contains(words), "{lang}: {words:?} missing");
        assert!(!html.contains("{{"), "a placeholder left in the {lang} page");
    }
    // Every file the page names is served here, with its type; none is elsewhere.
    let html = get(&format!("{base}/?lang=en"), None).into_string().unwrap();
    for (path, kind) in [
        ("/cabinet/cabinet.js", "text/javascript"),
        ("/cabinet/pki.min.js", "text/javascript"),
        ("/cabinet/cabinet.css", "text/css"),
        ("/cabinet/i18n.json", "application/json"),
        ("/cabinet/LICENSES.txt", "text/plain"),
    ] {
        let r = get(&format!("{base}{path}"), None);
        assert!(r.content_type().starts_with(kind), "{path}: {}", r.content_type());
        assert_eq!(r.header("X-Content-Type-Options"), Some("nosniff"));
        let body = r.into_string().unwrap();
        assert!(body.len() > 100, "{path} is empty");
        if path != "/cabinet/LICENSES.txt" && path != "/cabinet/pki.min.js" {
            assert!(!body.contains("http://") && !body.contains("https://"), "{path} names another site");
        }
    }
    let outside: Vec<&str> = html.split(['"', '\'']).filter(|s| s.starts_with("http")).collect();
    assert!(outside.is_empty(), "the page names outside resources: {outside:?}");
    let licenses = get(&format!("{base}/cabinet/LICENSES.txt"), None).into_string().unwrap();
    for lib in ["pkijs", "asn1js", "@noble/hashes"] {
        assert!(licenses.contains(&format!("==== {lib} ")), "no licence for {lib}");
    }
}

#[test]
fn the_cps_is_where_the_certificates_point() {
    let t = fresh_authority();
    let data = t.join("data");
    let server = Server::on(&data);
    // The URL an issued certificate names in its policies' CPS qualifier.
    issue(&data, t.path(), &individual(), "cps");
    let sign = std::fs::read_dir(t.join("cps-out"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("RSA256_"));
    let der = ca_core::pem::read_der(&std::fs::read(sign.expect("the SIGN certificate")).unwrap()).unwrap();
    let text = String::from_utf8_lossy(&der);
    let end = text.find("/cps").expect("a CPS URL") + "/cps".len();
    let cps = text[text[..end].rfind("http://").unwrap()..end].to_string();
    assert!(cps.starts_with("http://pki.test.kz/"), "{cps}: the authority's base URL");
    let path = &cps[cps.find("/cps").unwrap()..];
    for (lang, title, oid) in
        [("ru", "Регламент удостоверяющего центра", "1.2.398.3.3.2.3"), ("en", "Certification practice statement", "1.2.398.3.3.1.1")]
    {
        let r = get(&format!("{}{path}", server.url()), Some(lang));
        assert_eq!(r.status(), 200);
        let html = r.into_string().unwrap();
        assert!(html.contains(title) && html.contains(oid) && html.contains(&format!("<html lang=\"{lang}\"")), "{lang}");
    }
}

#[test]
fn with_https_the_plain_page_sends_the_browser_there() {
    let t = fresh_authority();
    let server = Server::on_tls(&t.join("data"));
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let r = agent.get(&format!("{}/", server.url())).call().unwrap();
    assert_eq!(r.status(), 307);
    assert_eq!(r.header("Location"), Some(format!("{}/", server.https_url()).as_str()));
    // The CPS stays on plain HTTP: certificates name an http:// URL.
    assert_eq!(agent.get(&format!("{}/cps", server.url())).call().unwrap().status(), 200);
}
