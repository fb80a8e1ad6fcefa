//! Who is at the other end: the client's address and whether the request came over
//! TLS. `X-Forwarded-For` and `X-Forwarded-Proto` are believed only from a peer inside
//! one of the `--trusted-proxy` networks; from anyone else they are ignored, since a
//! client can send any header it likes.

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The networks whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address: the peer, or — when the peer is a trusted proxy — the
    /// nearest address in `X-Forwarded-For` that is not itself a trusted proxy.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.contains(peer) {
            return peer;
        }
        let mut hops: Vec<IpAddr> = Vec::new();
        for value in headers.get_all("x-forwarded-for") {
            let Ok(text) = value.to_str() else {
                return peer;
            };
            for part in text.split(',') {
                match part.trim().parse::<IpAddr>() {
                    Ok(ip) => hops.push(canonical(ip)),
                    // A hop we cannot read: trust nothing before it.
                    Err(_) => hops.clear(),
                }
            }
        }
        // Right to left: the last hop our proxies did not add is the client.
        let mut client = peer;
        for hop in hops.into_iter().rev() {
            client = hop;
            if !self.contains(hop) {
                break;
            }
        }
        client
    }

    /// Whether the request reached the first proxy over HTTPS (only a trusted proxy's
    /// word counts).
    pub fn forwarded_https(&self, peer: IpAddr, headers: &HeaderMap) -> bool {
        self.contains(peer)
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let trusted = TrustedProxies(vec!["10.0.0.0/8".parse().unwrap()]);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // From an untrusted peer the header is ignored.
        assert_eq!(
            trusted.client(ip("203.0.113.9"), &headers(&["1.2.3.4"])),
            ip("203.0.113.9")
        );
        // From a trusted proxy: the nearest untrusted hop, whatever the client prepended.
        assert_eq!(
            trusted.client(ip("10.0.0.2"), &headers(&["6.6.6.6, 198.51.100.7"])),
            ip("198.51.100.7")
        );
        assert_eq!(
            trusted.client(ip("10.0.0.2"), &headers(&["198.51.100.7, 10.1.1.1"])),
            ip("198.51.100.7")
        );
        assert_eq!(
            trusted.client(ip("::ffff:10.0.0.2"), &headers(&["198.51.100.7"])),
            ip("198.51.100.7")
        );
        assert_eq!(
            trusted.client(ip("10.0.0.2"), &headers(&["junk"])),
            ip("10.0.0.2")
        );
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("10.0.0.2"), &headers(&["198.51.100.7"])),
            ip("10.0.0.2")
        );
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-proto", "https".parse().unwrap());
        assert!(trusted.forwarded_https(ip("10.0.0.2"), &h));
        assert!(!trusted.forwarded_https(ip("203.0.113.9"), &h));
    }
}
