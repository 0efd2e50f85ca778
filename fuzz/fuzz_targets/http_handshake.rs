//! HTTP heads, bodies and the handshake checks on arbitrary bytes: the input is split
//! at a 0xff byte into request and response.
#![no_main]
use wsscope::http::body::{BodySkipper, request_body, response_body};
use wsscope::http::handshake;
use wsscope::http::head::{parse_request, parse_response};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (req, resp) = match data.iter().position(|&b| b == 0xff) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(Some(request)) = parse_request(req) else { return };
    let mut body = BodySkipper::new(request_body(&request));
    body.skip(&req[request.len..]);
    let response = parse_response(resp).ok().flatten();
    if let Some(r) = &response {
        let mut body = BodySkipper::new(response_body(r, request.method()));
        body.skip(&resp[r.len..]);
    }
    let hs = handshake::build(request, response, data.len() % 2 == 0);
    let _ = hs.failed_checks().count();
});
