#!/usr/bin/env python3
"""The applicants' page in a real browser: headless Chromium driven by Selenium.

A whole application from the page: keys made in the browser, refusals shown in
the page's words, the operator confirming with the `ca` command, the key files
downloaded and opened with `openssl pkcs12` and with `ca inspect`; then a renewal
and a revocation signed in the browser with the downloaded SIGN key file. Every
step leaves a screenshot in the artifacts directory. A JavaScript error, an
unhandled rejection or a console error anywhere fails the test.

Usage: cabinet.py [ARTIFACTS_DIR]   (default: target/browser)
Needs target/release/ca-server and target/release/ca (cargo build --release --workspace).
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "target/release/ca-server"
CA = ROOT / "target/release/ca"
PASSWORD = "Құпия-сөз 2026"  # not ASCII on purpose: PKCS#12 must carry it as openssl does
WAIT = 90  # seconds for any one step (key files take a few seconds each)


def iin(first_eleven: str) -> str:
    """The IIN with its check digit."""
    d = [int(c) for c in first_eleven]
    check = sum(x * (i + 1) for i, x in enumerate(d)) % 11
    if check == 10:
        check = sum(x * ((i + 2) % 11 + 1) for i, x in enumerate(d)) % 11
    assert check != 10, first_eleven
    return first_eleven + str(check)


def mistyped(good: str) -> str:
    """The same IIN with its fifth digit changed: the check digit no longer agrees."""
    return good[:4] + str((int(good[4]) + 1) % 10) + good[5:]


class Failed(Exception):
    pass


def expect(condition, what):
    if not condition:
        raise Failed(what)


class Cabinet:
    def __init__(self, artifacts: Path):
        self.artifacts = artifacts
        self.step = 0
        self.tmp = Path(tempfile.mkdtemp(prefix="cabinet-"))
        self.data = self.tmp / "ca-data"
        self.downloads = self.tmp / "downloads"
        self.downloads.mkdir()
        self.server = None
        self.driver = None

    # ---- the server -------------------------------------------------------------

    def start_server(self):
        log = open(self.tmp / "server.log", "w+")
        self.server = subprocess.Popen(
            [str(SERVER), "--data", str(self.data), "--listen", "127.0.0.1:0"],
            stdout=log, stderr=log, env={**os.environ, "RUST_LOG": "warn"},
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            log.seek(0)
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", log.read())
            if m:
                self.base = f"http://127.0.0.1:{m.group(1)}"
                return
            expect(self.server.poll() is None, "ca-server exited: " + (self.tmp / "server.log").read_text())
            time.sleep(0.2)
        raise Failed("ca-server did not start in 120 s")

    def ca(self, *args):
        env = {**os.environ, "CA_KEY_PASSWORD": "staff key store password"}
        out = subprocess.run([str(CA), *args], capture_output=True, text=True, timeout=120, env=env)
        expect(out.returncode == 0, f"ca {' '.join(args)}: exit {out.returncode}\n{out.stdout}{out.stderr}")
        return out.stdout

    # ---- the browser ------------------------------------------------------------

    def start_browser(self):
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1000,1400", "--lang=en-US",
                    f"--user-data-dir={self.tmp / 'profile'}"]:
            options.add_argument(arg)
        options.add_experimental_option("prefs", {
            "download.default_directory": str(self.downloads),
            "download.prompt_for_download": False,
            "safebrowsing.enabled": False,
        })
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = webdriver.ChromeService(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
        self.driver = webdriver.Chrome(options=options, service=service)
        self.driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(self.downloads)})
        # Collect what the page's own handlers would not show: errors and rejections.
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": """
            window.__errors = [];
            addEventListener('error', e => window.__errors.push(String(e.message || e)));
            addEventListener('unhandledrejection', e => window.__errors.push('unhandled: ' + String(e.reason)));
        """})

    def open(self, path):
        self.driver.get(self.base + path)
        self.wait(lambda d: d.execute_script("return document.body.dataset.ready === 'true'"), "the page to be ready")
        self.no_errors()

    def wait(self, condition, what, timeout=WAIT):
        try:
            return WebDriverWait(self.driver, timeout).until(condition)
        except TimeoutException:
            self.shot("timeout")
            raise Failed(f"timed out waiting for {what}; message: {self.message()!r}")

    def el(self, id_):
        return self.driver.find_element(By.ID, id_)

    def fill(self, id_, value):
        field = self.el(id_)
        field.clear()
        field.send_keys(value)

    def visible(self, id_):
        return self.el(id_).is_displayed()

    def message(self):
        try:
            m = self.el("message")
            return m.text if m.is_displayed() else ""
        except Exception:
            return ""

    def shot(self, name):
        self.step += 1
        path = self.artifacts / f"{self.step:02d}-{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def no_errors(self):
        errors = self.driver.execute_script("return window.__errors || []")
        expect(not errors, f"JavaScript errors: {errors}")
        for entry in self.driver.get_log("browser"):
            if entry["level"] != "SEVERE":
                continue
            # A refusal the test provoked is logged by Chromium as a failed resource;
            # the page shows it in words (checked). Anything else is an error.
            refused = entry.get("source") == "network" and "/api/v1/" in entry["message"] and re.search(r"status of 4\d\d", entry["message"])
            expect(refused, f"console error: {entry['message']}")

    def submit(self, button):
        self.el(button).click()

    def wait_message(self, needle, what):
        self.wait(lambda d: needle in self.message(), f"{what} (message containing {needle!r})")

    # ---- the steps ------------------------------------------------------------------

    def languages(self):
        for accept, lang, heading in [("ru-RU,ru;q=0.9,en;q=0.5", "ru", "Сертификаты"), ("en-GB,en", "en", "Certificates"), ("de", "kk", "куәліктері")]:
            req = urllib.request.Request(self.base + "/", headers={"Accept-Language": accept})
            with urllib.request.urlopen(req, timeout=10) as r:
                html = r.read().decode()
                expect(f'<html lang="{lang}"' in html and heading in html, f"Accept-Language {accept} did not give {lang}")
                expect("default-src 'none'" in r.headers["Content-Security-Policy"], "no CSP on the page")
        self.open("/?lang=kk")
        expect("куәліктері" in self.driver.find_element(By.TAG_NAME, "h1").text, "the Kazakh page")
        self.shot("kazakh")
        self.el("lang-ru").click()
        self.wait(lambda d: d.execute_script("return document.documentElement.lang") == "ru", "the switch to Russian")
        self.wait(lambda d: d.execute_script("return document.body.dataset.ready === 'true'"), "the Russian page")
        expect("Подать заявку" in self.el("tab-apply").text, "the Russian tab names")
        self.shot("russian")
        self.el("lang-en").click()
        self.wait(lambda d: d.execute_script("return document.documentElement.lang") == "en", "the switch to English")
        self.wait(lambda d: d.execute_script("return document.body.dataset.ready === 'true'"), "the English page")
        self.no_errors()

    def apply_form(self, number):
        self.fill("iin", number)
        self.fill("surname", "Сейткали")
        self.fill("name", "Айгерим")
        self.fill("patronymic", "")
        self.fill("email", "aigerim@example.kz")
        self.fill("center", "Astana, CSC No. 1")

    def apply(self):
        good = iin("90010140000")
        # Keyboard only: the tabs answer the arrow keys.
        self.el("tab-apply").send_keys("\ue014")  # ArrowRight
        expect(self.el("tab-status").get_attribute("aria-selected") == "true", "ArrowRight did not move to the next tab")
        self.el("tab-status").send_keys("\ue012")  # ArrowLeft
        expect(self.visible("apply-form"), "ArrowLeft did not come back")
        # An empty form: the page says which field, in its words.
        self.submit("apply-submit")
        self.wait_message("IIN: fill this in", "the required-field message")
        expect(self.el("iin").get_attribute("aria-invalid") == "true", "the empty IIN is not marked invalid")
        # A mistyped IIN: refused by the authority, no hint of a digit.
        self.apply_form(mistyped(good))
        self.submit("apply-submit")
        self.wait_message("mistyped", "the mistyped-IIN refusal")
        expect(not re.search(r"\d", self.message().replace("IIN", "")), f"the message hints a digit: {self.message()}")
        expect(self.el("iin").get_attribute("aria-invalid") == "true", "the IIN field is not marked")
        self.shot("mistyped-iin")
        # Under 16.
        self.apply_form(iin("15010160000"))
        self.submit("apply-submit")
        self.wait_message("from the age of 16", "the under-16 refusal")
        # A birth date in the future.
        self.apply_form(iin("40010150000"))
        self.submit("apply-submit")
        self.wait_message("in the future", "the future-birth-date refusal")
        self.shot("refusals")
        # Token storage: the page gives the commands instead.
        self.apply_form(good)
        self.driver.find_element(By.CSS_SELECTOR, "#storage option[value=kaztoken]").click()
        self.submit("apply-submit")
        self.wait(lambda d: self.visible("token-commands"), "the token commands")
        commands = self.el("token-command-text").text
        expect("ca enroll keygen --storage kaztoken" in commands and f"--iin {good}" in commands, commands)
        self.shot("token-commands")
        # A legal entity's employee: the application waits for the head.
        self.driver.find_element(By.CSS_SELECTOR, "#storage option[value=pc]").click()
        self.el("kind-entity").click()
        expect(self.visible("entity-fields"), "the legal entity's fields did not appear")
        self.fill("iin", iin("85020230000"))
        self.fill("bin", "040840000124")
        self.fill("organization", 'ТОО "Тест"')
        self.driver.find_element(By.CSS_SELECTOR, "#role option[value=employee]").click()
        self.submit("apply-submit")
        self.wait(lambda d: self.visible("apply-result"), "the employee's receipt")
        self.wait_message("head", "the note that the head must approve")
        self.shot("employee-applied")
        # The real application, an individual's, keys on this computer.
        self.el("kind-individual").click()
        expect(not self.visible("entity-fields"), "the legal entity's fields stayed")
        employee = self.el("receipt-number").text
        self.apply_form(good)
        self.submit("apply-submit")
        self.wait(lambda d: self.el("receipt-number").text not in ("", employee), "the individual's receipt")
        self.number = self.el("receipt-number").text
        self.secret = self.el("receipt-secret").text
        expect(re.fullmatch(r"\d{16}", self.number), f"application number {self.number!r}")
        expect(len(self.secret) >= 20, "secret")
        expect("registration center" in self.message(), f"next step not said: {self.message()}")
        self.no_errors()
        self.shot("applied")

    def status(self, expect_state):
        self.el("tab-status").click()
        self.submit("status-submit")
        self.wait(lambda d: self.visible("status-result") and expect_state in self.el("status-state").text, f"state {expect_state}")
        self.no_errors()

    def follow(self):
        self.el("tab-status").click()
        expect(self.el("status-number").get_attribute("value") == self.number, "the number is not carried over")
        self.fill("status-secret", "wrong-secret")
        self.submit("status-submit")
        self.wait_message("No application with this number and secret", "the wrong-secret refusal")
        self.fill("status-secret", self.secret)
        self.status("Waiting for your visit")
        self.shot("awaiting-identity")

    def confirm(self):
        # One command gives the authority its first administrator's key store;
        # the confirmation is signed with it.
        staff = self.tmp / "admin"
        self.ca("operator", "add", "--role", "ca_administrator", "--iin", iin("75010130001"), "--surname", "Админов",
                "--name", "Админ", "--out", str(staff), "--data", str(self.data))
        out = self.ca("application", "confirm", self.number, "--data", str(self.data), "--operator-key", str(staff), "--json")
        expect(json.loads(out)["state"] == "issued", f"confirm: {out}")

    def download(self):
        self.status("Certificates issued")
        expect(self.visible("download-form"), "no download form for an issued application")
        self.fill("download-password", PASSWORD)
        self.fill("download-password2", PASSWORD + "x")
        self.submit("download-submit")
        self.wait_message("differ", "the password mismatch")
        self.fill("download-password2", PASSWORD)
        self.submit("download-submit")
        files = self.wait_files(2, "the two key files")
        self.wait_message("downloaded", "the download note")
        self.shot("downloaded")
        self.check_files(files, "downloaded")
        # The applicant has the files: the keys leave the browser, and a second
        # download is refused in words, making nothing.
        self.el("forget-keys").click()
        self.wait_message("removed from this browser", "the keys removed")
        self.submit("download-submit")
        self.wait_message("not in this browser", "the download without keys refused")
        expect(len(list(self.downloads.glob("*.p12"))) == 2, "a download without keys wrote a file")
        self.no_errors()
        return files

    def wait_files(self, n, what, before=()):
        def ready(_):
            names = [p for p in self.downloads.glob("*.p12") if p not in before]
            partial = list(self.downloads.glob("*.crdownload"))
            return names if len(names) == n and not partial else False
        return sorted(self.wait(ready, what))

    def check_files(self, files, stage):
        names = sorted(p.name for p in files)
        expect(names[0].startswith("AUTH_RSA256_") and names[1].startswith("RSA256_"), f"{stage}: file names {names}")
        env = {**os.environ, "P12PASS": PASSWORD}
        for p in files:
            ssl = lambda *a: subprocess.run(["openssl", "pkcs12", "-in", str(p), "-passin", "env:P12PASS", *a],
                                            capture_output=True, text=True, env=env, timeout=60)
            cert = ssl("-nokeys", "-clcerts")
            expect(cert.returncode == 0 and "BEGIN CERTIFICATE" in cert.stdout, f"openssl pkcs12 -nokeys {p.name}: {cert.stderr}")
            key = ssl("-nocerts", "-nodes")
            expect(key.returncode == 0 and "BEGIN PRIVATE KEY" in key.stdout, f"openssl pkcs12 -nocerts {p.name}: {key.stderr}")
            cacerts = ssl("-nokeys", "-cacerts")
            expect(cacerts.stdout.count("BEGIN CERTIFICATE") == 2, f"{p.name}: the chain (issuing CA and root) is not in the file")
            mod = lambda kind, pem: subprocess.run(["openssl", kind, "-noout", "-modulus"], input=pem, capture_output=True, text=True).stdout
            expect(mod("x509", cert.stdout) == mod("rsa", key.stdout) != "", f"{p.name}: the key is not the certificate's")
            bad = ssl("-noout", "-passin", "pass:wrong")
            expect(bad.returncode != 0, f"{p.name} opens with a wrong password")
            # Our own reader agrees, with the password as the page took it.
            info = json.loads(self.ca("inspect", str(p), "--password", PASSWORD, "--json"))
            expect(json.dumps(info).count("BEGIN") == 0 and info, f"ca inspect {p.name}")

    def renew(self, files):
        sign = [p for p in files if p.name.startswith("RSA256_")][0]
        self.el("tab-manage").click()
        self.el("manage-file").send_keys(str(sign))
        self.fill("manage-password", PASSWORD)
        self.el("action-renew").click()
        self.submit("manage-submit")
        new = self.wait_files(2, "the renewed key files", before=files)
        self.wait(lambda d: self.visible("manage-result") and "Renewed" in self.el("manage-result-text").text, "the renewal note")
        self.no_errors()
        self.shot("renewed")
        self.check_files(new, "renewed")
        return new

    def revoke(self, files):
        sign = [p for p in files if p.name.startswith("RSA256_")][0]
        self.el("manage-file").send_keys(str(sign))
        self.fill("manage-password", PASSWORD)
        self.el("action-revoke").click()
        expect(self.visible("reason-field"), "no reason to choose")
        self.driver.find_element(By.CSS_SELECTOR, "#reason option[value=keyCompromise]").click()
        self.submit("manage-submit")
        self.wait(lambda d: "Revoked:" in self.el("manage-result-text").text, "the revocation note")
        serials = re.findall(r"[0-9a-f]{8,}", self.el("manage-result-text").text)
        expect(len(serials) == 2, f"revoked serials: {self.el('manage-result-text').text}")
        for s in serials:
            shown = json.loads(self.ca("show", s, "--data", str(self.data), "--json"))
            expect(shown["status"]["status"] == "revoked" and shown["status"]["reason"] == "keyCompromise", f"ca show {s}: {shown['status']}")
        self.shot("revoked")
        # The same file again: already revoked, said in words.
        self.el("manage-file").send_keys(str(sign))
        self.submit("manage-submit")
        self.wait_message("revoked", "the second revocation's refusal")
        self.no_errors()

    def cps(self):
        self.driver.get(self.base + "/cps?lang=ru")
        expect("1.2.398.3.3.2.3" in self.driver.page_source and "Регламент" in self.driver.title, "the CPS page")
        self.no_errors()
        self.shot("cps")

    def run(self):
        self.start_server()
        self.start_browser()
        self.languages()
        self.apply()
        self.follow()
        self.confirm()
        files = self.download()
        new = self.renew(files)
        self.revoke(new)
        self.cps()

    def stop(self):
        if self.driver:
            self.driver.quit()
        if self.server:
            self.server.send_signal(signal.SIGTERM)
            try:
                self.server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def main():
    artifacts = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "target/browser")
    artifacts.mkdir(parents=True, exist_ok=True)
    for old in artifacts.glob("*.png"):
        old.unlink()
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium fetch a driver
    c = Cabinet(artifacts)
    started = time.monotonic()
    try:
        c.run()
    except Failed as e:
        print(f"browser test FAILED at step {c.step}: {e}", file=sys.stderr)
        if c.driver:
            c.shot("failed")
        print(f"screenshots in {artifacts}", file=sys.stderr)
        return 1
    finally:
        c.stop()
    print(f"browser test passed in {time.monotonic() - started:.1f} s; {c.step} screenshots in {artifacts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
