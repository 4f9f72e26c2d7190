//! The whole suite watches for personal data where it does not belong (issue 15). Every test of
//! this binary logs at DEBUG (leadsync itself at TRACE) into a scanner, and the helpers scan every
//! error a client is sent and every `/metrics` page they read. An email address, a phone number,
//! a name the sandbox gives its people or a test gave a lead, an API token, a LinkedIn token or
//! code, or a webhook signing secret found there is a finding; the next `TestApp` dropped fails
//! its test with the findings (the line, not the test that wrote it: read the line).
//!
//! Not scanned: the LinkedIn sandbox's own log lines (it stands for LinkedIn, which holds the
//! data) and GraphQL `data` (where personal data is asked for).

use std::{
    io::Write,
    sync::{Arc, Mutex, OnceLock, Weak},
};

use regex::Regex;
use tracing_subscriber::{Layer, filter::Targets, fmt::MakeWriter, layer::SubscriberExt};

/// Names tests give leads besides the sandbox's (`personal_logs`, `privacy`, ...), each a word
/// that appears nowhere else in leadsync's output.
const TEST_NAMES: &[&str] = &["Hypatia", "Alexandrina", "Theonis", "Euclidia"];

struct Watch {
    patterns: Vec<(&'static str, Regex)>,
    findings: Mutex<Vec<String>>,
}

fn watch() -> &'static Watch {
    static WATCH: OnceLock<Watch> = OnceLock::new();
    WATCH.get_or_init(|| {
        let names: Vec<String> = leadsync::linkedin::sandbox::FIRST_NAMES
            .iter()
            .chain(leadsync::linkedin::sandbox::LAST_NAMES)
            .chain(TEST_NAMES)
            // Short names ("Ada", "Wei") are parts of ordinary words and identifiers.
            .filter(|n| n.chars().count() >= 5)
            .map(|n| regex::escape(n))
            .collect();
        let pattern = |p: &str| Regex::new(p).expect("pattern");
        Watch {
            patterns: vec![
                (
                    "an email address",
                    pattern(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"),
                ),
                ("a phone number", pattern(r"\+\d{1,3}( ?\d){7,}")),
                ("a name", pattern(&format!(r"\b({})\b", names.join("|")))),
                ("an API token", pattern(r"lsk_[A-Za-z0-9_\-]{8,}")),
                (
                    "a LinkedIn token or code",
                    pattern(r"\bAQ[TW]?[A-Za-z0-9_\-]{30,}"),
                ),
                (
                    "a webhook signing secret",
                    pattern(r"whsec_[A-Za-z0-9+/=]{8,}"),
                ),
            ],
            findings: Mutex::new(Vec::new()),
        }
    })
}

/// What an error says an email address looks like (a format, nobody's address).
const EMAIL_FORMAT: &str = "name@domain.tld";

/// Records a finding for each pattern `text` (from `place`) matches.
pub fn scan(place: &str, text: &str) {
    thread_local! {
        static SCANNING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    // Building the patterns logs (the regex crate traces its construction): those lines are
    // not scanned, or the first scan would wait on itself.
    if SCANNING.with(|s| s.replace(true)) {
        return;
    }
    scan_patterns(place, text);
    SCANNING.with(|s| s.set(false));
}

fn scan_patterns(place: &str, text: &str) {
    let watch = watch();
    for (what, pattern) in &watch.patterns {
        if let Some(found) = pattern.find_iter(text).find(|m| m.as_str() != EMAIL_FORMAT) {
            let line = text
                .lines()
                .find(|l| l.contains(found.as_str()))
                .unwrap_or(text);
            watch.findings.lock().unwrap().push(format!(
                "{what} ({:?}) in {place}: {}",
                found.as_str(),
                line.chars().take(400).collect::<String>()
            ));
        }
    }
}

/// Panics with every finding so far, once (unless the thread is already panicking).
pub fn assert_clean() {
    let findings = std::mem::take(&mut *watch().findings.lock().unwrap());
    if !findings.is_empty() && !std::thread::panicking() {
        panic!(
            "personal data where it does not belong ({} findings):\n{}",
            findings.len(),
            findings.join("\n")
        );
    }
}

/// One formatted log event, scanned when the formatter is done with it.
#[derive(Default)]
pub struct ScannedEvent(Vec<u8>);

impl Write for ScannedEvent {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for ScannedEvent {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        scan("a log line", &String::from_utf8_lossy(&self.0));
        let mut taps = taps().lock().unwrap();
        taps.retain(|tap| match tap.upgrade() {
            Some(buffer) => {
                buffer.lock().unwrap().extend_from_slice(&self.0);
                true
            }
            None => false,
        });
    }
}

type Buffer = Arc<Mutex<Vec<u8>>>;
type Taps = Mutex<Vec<Weak<Mutex<Vec<u8>>>>>;

fn taps() -> &'static Taps {
    static TAPS: OnceLock<Taps> = OnceLock::new();
    TAPS.get_or_init(Default::default)
}

/// Copies every log line into `buffer` while it lives (`LogCapture`). One subscriber for the
/// whole process: spans then open and close in the same one on every thread.
pub fn tap(buffer: &Buffer) {
    taps().lock().unwrap().push(Arc::downgrade(buffer));
}

struct Scanner;

impl<'a> MakeWriter<'a> for Scanner {
    type Writer = ScannedEvent;

    fn make_writer(&'a self) -> Self::Writer {
        ScannedEvent::default()
    }
}

/// Installs the scanning subscriber as the process's default, once.
pub fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        watch();
        let targets = Targets::new()
            .with_default(tracing::Level::DEBUG)
            .with_target("leadsync", tracing::Level::TRACE)
            .with_target(
                "leadsync::linkedin::sandbox",
                tracing_subscriber::filter::LevelFilter::OFF,
            );
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(Scanner)
                .with_filter(targets),
        );
        // Another test harness may have set one already; then this binary scans nothing
        // globally, and says so.
        if tracing::subscriber::set_global_default(subscriber).is_err() {
            eprintln!("pii_watch: a global subscriber was set before; log lines are not scanned");
        }
    });
}

#[test]
fn the_watch_finds_each_kind_of_personal_data_and_passes_ordinary_lines() {
    for (line, kind) in [
        (
            "matched lead ada.lovelace@initech.example",
            "an email address",
        ),
        ("phone=+33 41 207 9921", "a phone number"),
        ("lead name: Grace Hopper", "a name"),
        ("token lsk_3fJ9aQ0x_yZ", "an API token"),
        (
            "refresh AQWx8dK2mN4pQ7rS9tU1vW3xY5zA7bC9dE1fG",
            "a LinkedIn token or code",
        ),
        ("secret whsec_c2VjcmV0IGJ5dGVz", "a webhook signing secret"),
    ] {
        let matched: Vec<&str> = watch()
            .patterns
            .iter()
            .filter(|(_, p)| p.is_match(line))
            .map(|(what, _)| *what)
            .collect();
        assert_eq!(matched, vec![kind], "{line}");
    }
    for line in [
        "INFO http{method=POST path=/graphql request_id=7f2c}: synced 12 responses in 0.41 s",
        "connecting to postgres://postgres@127.0.0.1:5432/leadsync_test_1",
        "lead_id=4711 campaign_id=urn:li:sponsoredCampaign:123456789 matched by EMAIL",
        "retrying after 429 in 1500 ms (attempt 3)",
    ] {
        for (what, pattern) in &watch().patterns {
            assert!(
                !pattern.is_match(line),
                "{what} in an ordinary line: {line}"
            );
        }
    }
}
