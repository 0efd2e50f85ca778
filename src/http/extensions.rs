//! Sec-WebSocket-Extensions (RFC 6455 §9.1) and what permessage-deflate's parameters
//! promise (RFC 7692 §7.1): read here, where they are negotiated, and handed to the
//! `ws` stage as [`DeflateParams`] for each direction.

/// A negotiated or offered extension: name and parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extension {
    /// e.g. `permessage-deflate`.
    pub name: String,
    /// `(name, value)` pairs.
    pub params: Vec<(String, Option<String>)>,
}

/// Parses a Sec-WebSocket-Extensions value (RFC 6455 §9.1).
pub fn parse_extensions(value: &str) -> Vec<Extension> {
    value
        .split(',')
        .filter_map(|ext| {
            let mut parts = ext.split(';').map(str::trim);
            let name = parts.next().filter(|n| !n.is_empty())?.to_ascii_lowercase();
            let params = parts
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (
                        k.trim().to_string(),
                        Some(v.trim().trim_matches('"').to_string()),
                    ),
                    None => (p.to_string(), None),
                })
                .collect();
            Some(Extension { name, params })
        })
        .collect()
}

/// What one side promised about the messages it compresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateParams {
    /// The sender resets its compression context after every message.
    pub no_context_takeover: bool,
    /// The sender's LZ77 window is at most 2^bits bytes (8–15).
    pub max_window_bits: u8,
}

impl Default for DeflateParams {
    fn default() -> Self {
        DeflateParams {
            no_context_takeover: false,
            max_window_bits: 15,
        }
    }
}

/// The permessage-deflate agreement of a connection, from the server's response.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeflateAgreement {
    /// How the client compresses (client_no_context_takeover, client_max_window_bits).
    pub client: DeflateParams,
    /// How the server compresses (server_no_context_takeover, server_max_window_bits).
    pub server: DeflateParams,
}

/// Reads a permessage-deflate response offer's parameters (RFC 7692 §7.1). Returns
/// `Err` with a reason when a parameter is unknown, repeated or out of range.
pub fn parse_agreement(params: &[(String, Option<String>)]) -> Result<DeflateAgreement, String> {
    let mut agreement = DeflateAgreement::default();
    let mut seen = std::collections::HashSet::new();
    for (name, value) in params {
        let name = name.to_ascii_lowercase();
        if !seen.insert(name.clone()) {
            return Err(format!("parameter {name} appears twice"));
        }
        let bits = || -> Result<u8, String> {
            let v = value
                .as_deref()
                .ok_or_else(|| format!("{name} needs a value in a response"))?;
            let v = v.trim_matches('"');
            match v.parse::<u8>() {
                Ok(b @ 8..=15) => Ok(b),
                _ => Err(format!("{name}={v} is not between 8 and 15")),
            }
        };
        match name.as_str() {
            "server_no_context_takeover" => agreement.server.no_context_takeover = true,
            "client_no_context_takeover" => agreement.client.no_context_takeover = true,
            "server_max_window_bits" => agreement.server.max_window_bits = bits()?,
            "client_max_window_bits" => agreement.client.max_window_bits = bits()?,
            other => return Err(format!("unknown parameter {other}")),
        }
    }
    Ok(agreement)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_parameters() {
        let p = |s: &[(&str, Option<&str>)]| {
            parse_agreement(
                &s.iter()
                    .map(|(a, b)| (a.to_string(), b.map(str::to_string)))
                    .collect::<Vec<_>>(),
            )
        };
        let a = p(&[
            ("server_no_context_takeover", None),
            ("client_max_window_bits", Some("10")),
        ])
        .expect("ok");
        assert!(a.server.no_context_takeover);
        assert_eq!(a.client.max_window_bits, 10);
        assert!(p(&[("server_max_window_bits", Some("16"))]).is_err());
        assert!(p(&[("bogus", None)]).is_err());
        assert!(
            p(&[
                ("server_no_context_takeover", None),
                ("server_no_context_takeover", None)
            ])
            .is_err()
        );
    }
}
