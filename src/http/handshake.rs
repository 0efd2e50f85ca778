//! The WebSocket opening handshake (RFC 6455 §4): the Upgrade request, the server's
//! response, every rule either must follow, and the Sec-WebSocket-Accept computation
//! kept step by step so a viewer can show it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha1::{Digest, Sha1};

use super::extensions::{DeflateAgreement, parse_agreement, parse_extensions};
use super::head::HttpHead;
use crate::rules::Violation;

/// The GUID every server appends to the key (RFC 6455 §1.3, §4.2.2).
pub const WEBSOCKET_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The Accept computation, each step kept for display (RFC 6455 §4.2.2 item 5.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptComputation {
    /// Sec-WebSocket-Key as the client sent it.
    pub key: String,
    /// key + GUID.
    pub concatenated: String,
    /// SHA-1 of that, in hex.
    pub sha1_hex: String,
    /// base64 of the SHA-1 digest: what the server must send.
    pub expected: String,
    /// Sec-WebSocket-Accept as the server sent it.
    pub received: Option<String>,
}

impl AcceptComputation {
    /// Runs the computation for `key`.
    pub fn new(key: &str, received: Option<String>) -> Self {
        let concatenated = format!("{key}{WEBSOCKET_GUID}");
        let digest = Sha1::digest(concatenated.as_bytes());
        AcceptComputation {
            key: key.to_string(),
            sha1_hex: hex::encode(digest),
            expected: BASE64.encode(digest),
            concatenated,
            received,
        }
    }

    /// The server's value equals the expected one.
    pub fn matches(&self) -> bool {
        self.received.as_deref() == Some(self.expected.as_str())
    }
}

/// One rule of the handshake and whether this handshake follows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// The rule (its violation code when broken).
    pub rule: Violation,
    /// Followed (meaningful only when `judged`).
    pub ok: bool,
    /// The capture shows enough to judge the rule: false when the snaplen cut the head
    /// before the header it needs could show (the check is "not captured", neither
    /// passed nor failed).
    pub judged: bool,
    /// What was seen, in a sentence.
    pub detail: String,
}

impl Check {
    /// The rule is judged and broken.
    pub fn failed(&self) -> bool {
        self.judged && !self.ok
    }
}

/// The handshake of one connection.
#[derive(Clone, Debug)]
pub struct Handshake {
    /// The Upgrade request.
    pub request: HttpHead,
    /// The response, if captured.
    pub response: Option<HttpHead>,
    /// The Accept computation (when the request has a key).
    pub accept: Option<AcceptComputation>,
    /// Every rule checked, in order.
    pub checks: Vec<Check>,
    /// Subprotocols the client offered.
    pub offered_subprotocols: Vec<String>,
    /// The subprotocol the server chose.
    pub subprotocol: Option<String>,
    /// The response's Sec-WebSocket-Extensions value.
    pub extensions: Option<String>,
    /// permessage-deflate as agreed, when the server accepted it.
    pub deflate: Option<DeflateAgreement>,
    /// Status 101, both heads whole in the capture and every check passed.
    pub valid: bool,
    /// Both heads are whole in the capture (none was cut by the snaplen), so every
    /// check could be judged.
    pub observable: bool,
}

impl Handshake {
    /// The response status, if a response was captured.
    pub fn status(&self) -> Option<u16> {
        self.response.as_ref().and_then(HttpHead::status)
    }

    /// The server switched protocols (status 101).
    pub fn accepted(&self) -> bool {
        self.status() == Some(101)
    }

    /// The checks the capture could not judge (the snaplen cut what they need).
    pub fn unjudged_checks(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.judged)
    }

    /// The checks that failed (judged and broken).
    pub fn failed_checks(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.failed())
    }
}

/// True if a request asks for a WebSocket upgrade (an Upgrade token `websocket` or a
/// Sec-WebSocket-Key), as opposed to plain HTTP or another upgrade such as `h2c`.
pub fn is_upgrade_request(head: &HttpHead) -> bool {
    head.has_token("upgrade", "websocket") || head.header("sec-websocket-key").is_some()
}

fn check(rule: Violation, ok: bool, detail: impl Into<String>) -> Check {
    Check {
        rule,
        ok,
        judged: true,
        detail: detail.into(),
    }
}

/// Which head a rule reads, and the header it needs there (`None`: the start line, or
/// what the client sent after its head).
enum Reads {
    Request(Option<&'static str>),
    Response(Option<&'static str>),
}

/// What `rule` reads to be judged.
fn reads(rule: Violation) -> Reads {
    use Violation as V;
    match rule {
        V::HandshakeHostMissing => Reads::Request(Some("host")),
        V::HandshakeUpgradeMissing => Reads::Request(Some("upgrade")),
        V::HandshakeConnectionMissing => Reads::Request(Some("connection")),
        V::HandshakeKeyInvalid | V::HandshakeAcceptMismatch => {
            Reads::Request(Some("sec-websocket-key"))
        }
        V::HandshakeVersionInvalid => Reads::Request(Some("sec-websocket-version")),
        V::HandshakeSubprotocolNotOffered => Reads::Request(Some("sec-websocket-protocol")),
        V::HandshakeExtensionNotOffered => Reads::Request(Some("sec-websocket-extensions")),
        V::HandshakeResponseUpgradeMissing => Reads::Response(Some("upgrade")),
        V::HandshakeResponseConnectionMissing => Reads::Response(Some("connection")),
        V::HandshakeAcceptMissing => Reads::Response(Some("sec-websocket-accept")),
        V::HandshakeClientFramesBeforeResponse => Reads::Request(None),
        _ => Reads::Response(None),
    }
}

/// A check on a head the snaplen cut cannot be judged when the header it needs is not
/// among the lines that show (it may have been sent after them); nor can "the client
/// waited", since where a cut request ends is unknown.
fn judge_cut(check: &mut Check, request: &HttpHead, response: Option<&HttpHead>) {
    let (head, header) = match reads(check.rule) {
        Reads::Request(None) if request.cut => {
            check.judged = false;
            check.detail =
                "the request was cut by the snaplen: where it ends is not in the capture".into();
            return;
        }
        Reads::Request(h) => (Some(request), h),
        Reads::Response(h) => (response, h),
    };
    if let (Some(head), Some(name)) = (head, header)
        && head.cut
        && head.header(name).is_none()
    {
        let which = if head.status().is_some() {
            "response"
        } else {
            "request"
        };
        check.judged = false;
        check.detail =
            format!("not captured: the snaplen cut the {which} before any {name} header showed");
    }
}

/// The request's own rules (RFC 6455 §4.1 client requirements, as §4.2.1 reads them).
pub fn check_request(req: &HttpHead) -> Vec<Check> {
    let method = req.method().unwrap_or("").to_string();
    let key = req.header("sec-websocket-key");
    let key_bytes = key.as_deref().and_then(|k| BASE64.decode(k.trim()).ok());
    let version = req.header("sec-websocket-version");
    vec![
        check(
            Violation::HandshakeMethodNotGet,
            method == "GET",
            format!("method is {method}"),
        ),
        check(
            Violation::HandshakeHttpVersion,
            req.minor_version >= 1,
            format!("request is {}", req.version()),
        ),
        check(
            Violation::HandshakeHostMissing,
            req.header("host").is_some(),
            match req.header("host") {
                Some(h) => format!("Host: {h}"),
                None => "no Host header".into(),
            },
        ),
        check(
            Violation::HandshakeUpgradeMissing,
            req.has_token("upgrade", "websocket"),
            format!(
                "Upgrade: {}",
                req.header("upgrade").unwrap_or_else(|| "(absent)".into())
            ),
        ),
        check(
            Violation::HandshakeConnectionMissing,
            req.has_token("connection", "upgrade"),
            format!(
                "Connection: {}",
                req.header("connection")
                    .unwrap_or_else(|| "(absent)".into())
            ),
        ),
        check(
            Violation::HandshakeKeyInvalid,
            key_bytes.as_ref().is_some_and(|b| b.len() == 16),
            match (&key, &key_bytes) {
                (None, _) => "no Sec-WebSocket-Key".to_string(),
                (Some(k), None) => format!("Sec-WebSocket-Key {k:?} is not base64"),
                (Some(k), Some(b)) => {
                    format!("Sec-WebSocket-Key {k:?} decodes to {} bytes", b.len())
                }
            },
        ),
        check(
            Violation::HandshakeVersionInvalid,
            version.as_deref() == Some("13"),
            format!(
                "Sec-WebSocket-Version: {}",
                version.unwrap_or_else(|| "(absent)".into())
            ),
        ),
    ]
}

/// Builds the handshake from the request and (if captured) the response, running every
/// check. `data_before_response` says the client sent bytes before the response arrived.
pub fn build(
    request: HttpHead,
    response: Option<HttpHead>,
    data_before_response: bool,
) -> Handshake {
    let mut checks = check_request(&request);
    let offered_subprotocols = request.tokens("sec-websocket-protocol");
    let offered_extensions: Vec<String> = request
        .header("sec-websocket-extensions")
        .map(|v| parse_extensions(&v).into_iter().map(|e| e.name).collect())
        .unwrap_or_default();
    let key = request.header("sec-websocket-key");
    let mut accept = None;
    let mut subprotocol = None;
    let mut extensions = None;
    let mut deflate = None;
    if let Some(resp) = &response {
        let received = resp.header("sec-websocket-accept");
        accept = key
            .as_deref()
            .map(|k| AcceptComputation::new(k.trim(), received.clone()));
        subprotocol = resp.header("sec-websocket-protocol");
        extensions = resp.header("sec-websocket-extensions");
        if resp.status() == Some(101) {
            checks.push(check(
                Violation::HandshakeResponseUpgradeMissing,
                resp.has_token("upgrade", "websocket"),
                format!(
                    "Upgrade: {}",
                    resp.header("upgrade").unwrap_or_else(|| "(absent)".into())
                ),
            ));
            checks.push(check(
                Violation::HandshakeResponseConnectionMissing,
                resp.has_token("connection", "upgrade"),
                format!(
                    "Connection: {}",
                    resp.header("connection")
                        .unwrap_or_else(|| "(absent)".into())
                ),
            ));
            checks.push(check(
                Violation::HandshakeAcceptMissing,
                received.is_some(),
                match &received {
                    Some(r) => format!("Sec-WebSocket-Accept: {r}"),
                    None => "no Sec-WebSocket-Accept".into(),
                },
            ));
            if received.is_some() {
                let ok = accept.as_ref().is_some_and(AcceptComputation::matches);
                let detail = match &accept {
                    Some(a) => format!(
                        "received {}, expected {}",
                        a.received.as_deref().unwrap_or(""),
                        a.expected
                    ),
                    None => "no key to compute the expected value from".into(),
                };
                checks.push(check(Violation::HandshakeAcceptMismatch, ok, detail));
            }
            if let Some(p) = &subprotocol {
                checks.push(check(
                    Violation::HandshakeSubprotocolNotOffered,
                    offered_subprotocols.iter().any(|o| o == p),
                    format!(
                        "server chose {p:?}; client offered {:?}",
                        offered_subprotocols
                    ),
                ));
            }
            if let Some(ext) = &extensions {
                let accepted = parse_extensions(ext);
                let unoffered: Vec<&str> = accepted
                    .iter()
                    .filter(|e| !offered_extensions.contains(&e.name))
                    .map(|e| e.name.as_str())
                    .collect();
                checks.push(check(
                    Violation::HandshakeExtensionNotOffered,
                    unoffered.is_empty(),
                    if unoffered.is_empty() {
                        format!("server accepted {ext:?}, all offered")
                    } else {
                        format!(
                            "server accepted {unoffered:?}; client offered {offered_extensions:?}"
                        )
                    },
                ));
                if let Some(pmd) = accepted.iter().find(|e| e.name == "permessage-deflate") {
                    match parse_agreement(&pmd.params) {
                        Ok(a) => {
                            deflate = Some(a);
                            checks.push(check(
                                Violation::HandshakeDeflateParams,
                                true,
                                "permessage-deflate parameters are valid",
                            ));
                        }
                        Err(why) => {
                            deflate = Some(DeflateAgreement::default());
                            checks.push(check(Violation::HandshakeDeflateParams, false, why));
                        }
                    }
                }
            }
            checks.push(check(
                Violation::HandshakeClientFramesBeforeResponse,
                !data_before_response,
                if data_before_response {
                    "the client sent data before the server's response"
                } else {
                    "the client waited for the response"
                },
            ));
        }
    }
    for c in &mut checks {
        judge_cut(c, &request, response.as_ref());
    }
    let observable = !request.cut && !response.as_ref().is_some_and(|r| r.cut);
    let valid = observable
        && response.as_ref().and_then(HttpHead::status) == Some(101)
        && checks.iter().all(|c| c.ok);
    Handshake {
        request,
        response,
        accept,
        checks,
        offered_subprotocols,
        subprotocol,
        extensions,
        deflate,
        valid,
        observable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::head::{parse_request, parse_response};

    const RFC_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";
    const RFC_RESPONSE: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n";

    fn heads(req: &[u8], resp: &[u8]) -> (HttpHead, HttpHead) {
        (
            parse_request(req).expect("ok").expect("complete"),
            parse_response(resp).expect("ok").expect("complete"),
        )
    }

    #[test]
    fn rfc_6455_section_1_3_example() {
        let a = AcceptComputation::new(
            "dGhlIHNhbXBsZSBub25jZQ==",
            Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".into()),
        );
        assert_eq!(a.sha1_hex, "b37a4f2cc0624f1690f64606cf385945b2bec4ea");
        assert!(a.matches());
        let (req, resp) = heads(RFC_REQUEST, RFC_RESPONSE);
        let h = build(req, Some(resp), false);
        assert!(h.valid, "{:?}", h.failed_checks().collect::<Vec<_>>());
        assert_eq!(h.subprotocol.as_deref(), Some("chat"));
    }

    #[test]
    fn each_rule_fires_on_its_own_defect() {
        let cases: &[(Violation, &str, &str)] = &[
            (Violation::HandshakeMethodNotGet, "GET /chat", "POST /chat"),
            (
                Violation::HandshakeHttpVersion,
                "HTTP/1.1\r\nHost",
                "HTTP/1.0\r\nHost",
            ),
            (
                Violation::HandshakeHostMissing,
                "Host: server.example.com\r\n",
                "",
            ),
            (
                Violation::HandshakeUpgradeMissing,
                "Upgrade: websocket",
                "Upgrade: h2c",
            ),
            (
                Violation::HandshakeConnectionMissing,
                "Connection: Upgrade",
                "Connection: keep-alive",
            ),
            (
                Violation::HandshakeKeyInvalid,
                "dGhlIHNhbXBsZSBub25jZQ==",
                "c2hvcnQ=",
            ),
            (
                Violation::HandshakeVersionInvalid,
                "Version: 13",
                "Version: 8",
            ),
            (
                Violation::HandshakeSubprotocolNotOffered,
                "chat, superchat",
                "superchat",
            ),
        ];
        for (rule, from, to) in cases {
            let req = String::from_utf8_lossy(RFC_REQUEST).replacen(from, to, 1);
            let (req, resp) = heads(req.as_bytes(), RFC_RESPONSE);
            let h = build(req, Some(resp), false);
            let failed: Vec<Violation> = h.failed_checks().map(|c| c.rule).collect();
            assert!(
                failed.contains(rule),
                "{rule:?} not reported; failed {failed:?}"
            );
            assert!(!h.valid);
        }
        let resp_cases: &[(Violation, &str, &str)] = &[
            (
                Violation::HandshakeResponseUpgradeMissing,
                "Upgrade: websocket",
                "Upgrade: nope",
            ),
            (
                Violation::HandshakeResponseConnectionMissing,
                "Connection: Upgrade",
                "Connection: close",
            ),
            (
                Violation::HandshakeAcceptMismatch,
                "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            ),
            (
                Violation::HandshakeAcceptMissing,
                "Sec-WebSocket-Accept",
                "X-Other",
            ),
            (
                Violation::HandshakeExtensionNotOffered,
                "Sec-WebSocket-Protocol: chat\r\n",
                "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: permessage-deflate\r\n",
            ),
        ];
        for (rule, from, to) in resp_cases {
            let resp = String::from_utf8_lossy(RFC_RESPONSE).replacen(from, to, 1);
            let (req, resp) = heads(RFC_REQUEST, resp.as_bytes());
            let h = build(req, Some(resp), false);
            let failed: Vec<Violation> = h.failed_checks().map(|c| c.rule).collect();
            assert_eq!(failed, vec![*rule]);
        }
        let (req, resp) = heads(RFC_REQUEST, RFC_RESPONSE);
        let h = build(req, Some(resp), true);
        let failed: Vec<Violation> = h.failed_checks().map(|c| c.rule).collect();
        assert_eq!(failed, vec![Violation::HandshakeClientFramesBeforeResponse]);
    }

    #[test]
    fn refused_upgrade_is_not_valid_and_has_no_response_checks() {
        let (req, resp) = heads(
            RFC_REQUEST,
            b"HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n\r\n",
        );
        let h = build(req, Some(resp), false);
        assert!(!h.valid);
        assert_eq!(h.failed_checks().count(), 0);
        assert_eq!(h.status(), Some(426));
    }

    #[test]
    fn extension_header_parsing() {
        let e = parse_extensions(
            "permessage-deflate; client_max_window_bits; server_max_window_bits=10, x-webkit-deflate-frame",
        );
        assert_eq!(e.len(), 2);
        assert_eq!(
            e[0].params[1],
            ("server_max_window_bits".into(), Some("10".into()))
        );
    }
}
